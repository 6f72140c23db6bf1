/**
 * The retained bytes of retain(): the written stream from the first
 * unacknowledged byte on, trimmed as the peer acknowledges it.
 */
import * as net from 'node:net';

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
  constructor(public maxRetainedBytes: number) {}

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.end += chunk.length;
    this.size += chunk.length;
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

  /** The bytes from `acknowledged` on, or undefined when some of them were released. */
  suffixFrom(acknowledged: number): Buffer | undefined {
    if (acknowledged < this.start) return undefined;
    this.trim(acknowledged);
    return Buffer.concat(this.chunks.slice(this.head), this.size);
  }
}

/** A private copy of a chunk given to _write/_writev (empty for anything else). */
export function toBuffer(chunk: unknown, encoding: string): Buffer {
  if (Buffer.isBuffer(chunk)) return Buffer.from(chunk); // copy: the caller may reuse it after the callback
  if (typeof chunk === 'string') return Buffer.from(chunk, (encoding || 'utf8') as BufferEncoding);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  return EMPTY;
}

/** Chunks still queued in Node's Writable (not yet handed to _write), in order. */
export function pendingUserland(socket: net.Socket): Buffer[] {
  const pending = (socket as net.Socket & { writableBuffer?: Array<{ chunk: unknown; encoding: string }> }).writableBuffer;
  return pending ? pending.map((e) => toBuffer(e.chunk, e.encoding)) : [];
}
