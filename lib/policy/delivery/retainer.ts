/**
 * The retained bytes of retain(): the written stream from the first
 * unacknowledged byte on, trimmed as the peer acknowledges it.
 *
 * The bound (maxRetainedBytes) holds for everything unacknowledged, the
 * bytes still in Node's own write buffer (`writableBuffer`, never handed to
 * `_write`) included: the copy kept here never exceeds it, and the suffix is
 * reported incomplete, never materialised, while written − acknowledged
 * exceeds it.
 */
import * as net from 'node:net';
import { bytesWrittenBy } from '../../model/accounting';
import { userlandBuffered } from '../../runtime/socket-hooks';

const EMPTY = Buffer.alloc(0);

/** The written stream from `start` on, kept until the peer acknowledges it. */
export class Retainer {
  private chunks: Buffer[] = [];
  private head = 0;
  /** Stream offset of the first retained byte. */
  start = 0;
  /** Stream offset after the last byte seen by _write/_writev. */
  end = 0;
  /** Bytes held. */
  size = 0;
  /** Times the bound was hit and the retained bytes were released. */
  overflows = 0;

  /**
   * @param socket the socket whose written stream this is (for Node's buffer).
   * @param acknowledgedNow bytes acknowledged now (a fresh reading), or null
   *   when there is no reading; used to trim before giving up on the bound.
   */
  constructor(public maxRetainedBytes: number, private readonly socket?: net.Socket,
    private readonly acknowledgedNow: () => number | null = () => null) {}

  /**
   * Keeps a private copy of `chunk` (the caller may reuse it after the write
   * callback). When it does not fit in the bound even after trimming, the
   * retained bytes and the chunk are released (an overflow): the copy made
   * here never exceeds the bound, however large the write.
   */
  append(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.size + n > this.maxRetainedBytes) {
      const acknowledged = this.acknowledgedNow();
      if (acknowledged !== null) this.trim(acknowledged);
    }
    this.end += n;
    if (this.size + n > this.maxRetainedBytes) { this.overflow(); return; }
    this.chunks.push(Buffer.from(chunk));
    this.size += n;
  }

  /** Releases every byte below stream offset `acknowledged`. */
  trim(acknowledged: number): void {
    while (this.start < acknowledged && this.head < this.chunks.length) {
      const c = this.chunks[this.head];
      const drop = Math.min(c.length, acknowledged - this.start);
      if (drop === c.length) {
        this.chunks[this.head++] = EMPTY;
      } else {
        this.chunks[this.head] = c.subarray(drop);
      }
      this.start += drop;
      this.size -= drop;
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Over the bound even after trimming: drop everything; the suffix is incomplete until acks pass `end`. */
  overflow(): void {
    this.chunks = [];
    this.head = 0;
    this.start = this.end;
    this.size = 0;
    this.overflows++;
  }

  /**
   * Whether the bytes from `acknowledged` on can be given whole: none of them
   * was released, and all of them (Node's buffer included) fit in the bound.
   */
  complete(acknowledged: number): boolean {
    if (acknowledged < this.start) return false;
    const unacknowledged = this.socket ? bytesWrittenBy(this.socket) - acknowledged : this.end - acknowledged;
    return unacknowledged <= this.maxRetainedBytes;
  }

  /**
   * The bytes from `acknowledged` on, Node's still-buffered writes of
   * `socket` included (one copy, at most the bound), or undefined when the
   * suffix is incomplete (see {@link complete}).
   */
  suffixFrom(acknowledged: number): Buffer | undefined {
    if (!this.complete(acknowledged)) return undefined;
    this.trim(acknowledged);
    const pending = this.socket ? pendingUserland(this.socket) : [];
    return Buffer.concat([...this.chunks.slice(this.head), ...pending]);
  }
}

/**
 * A chunk given to _write/_writev as a Buffer (a view, not a copy: the
 * Retainer copies what it keeps); empty for anything else.
 */
export function toBuffer(chunk: unknown, encoding: string): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, (encoding || 'utf8') as BufferEncoding);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return EMPTY;
}

/** Chunks still queued in Node's Writable (not yet handed to _write), in order, as views. */
export function pendingUserland(socket: net.Socket): Buffer[] {
  return userlandBuffered(socket).map((e) => toBuffer(e.chunk, e.encoding));
}
