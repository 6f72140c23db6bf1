/**
 * What happened to the bytes the application wrote: `delivery()` (a reading),
 * `acked()` (a wait for the peer's acknowledgement) and `retain()` (keep the
 * unacknowledged suffix of the written stream so it can be replayed).
 *
 * The peer's ACK is the only delivery signal TCP gives a sender. The kernel
 * counts it in tcpi_bytes_acked (one more on the connecting side, whose SYN
 * takes a sequence number); SIOCOUTQ counts what it still holds (+1 for a
 * queued FIN); Node's `bytesWritten` counts what the application wrote,
 * including what still sits in Node's own write buffer.
 *
 * Every socket that acked() or retain() is used on gets one {@link Track}:
 * one scheduler registration however many acked() calls wait on it, a hook on
 * `_write`/`_writev` (to see the byte stream in order and to notice completed
 * writes at once) and one on `_destroy` (the last moment the fd can be read).
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { native } from './binding';
import { codedError, invalidArgType, invalidArgValue, peerGoneError, PeerGoneError, validateInteger } from './errors';
import { fdOf } from './fd';
import { RECORD_STRIDE, Registration, Sample, scheduler } from './scheduler';
import { TCP_INFO_OFFSETS } from './tcpinfo';

const BYTES_ACKED = TCP_INFO_OFFSETS.bytesAcked;
const ST = { FIN_WAIT1: 4, CLOSE: 7, LAST_ACK: 9, CLOSING: 11 } as const;

/** Fastest acked() polling, ms (right after progress or a completed write). */
const ACK_POLL_MIN_MS = 10;
/** Slowest acked() polling, ms (the interval doubles while nothing moves). */
const ACK_POLL_MAX_MS = 250;
/** How often retained bytes are trimmed when no acked() is waiting, ms. */
const RETAIN_TRIM_MS = 100;
/** Default bound of retain(), bytes. */
export const DEFAULT_MAX_RETAINED_BYTES = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Reading the kernel

/** One consistent-enough reading of the kernel's side (tcp_info, then SIOCOUTQ). */
interface Reading {
  state: number;
  /** tcpi_bytes_acked, or -1 when the kernel does not report it (< 4.1). */
  bytesAcked: number;
  /** SIOCOUTQ, bytes (+1 for a queued FIN). */
  sendQueue: number;
}

const oneFd = new Int32Array(1);
const oneCookie = new BigUint64Array(1);
const oneRecord = Buffer.alloc(RECORD_STRIDE);
const oneSample = new Sample();

function readingOf(sample: Sample): Reading {
  return {
    state: sample.state,
    bytesAcked: sample.has(BYTES_ACKED, 8) ? sample.u64(BYTES_ACKED) : -1,
    sendQueue: sample.sendQueue,
  };
}

/** Reads `fd` now; null when the fd is unusable or (cookie given) no longer this socket. */
function readNow(fd: number, cookie: bigint): Reading | null {
  oneFd[0] = fd;
  oneCookie[0] = cookie;
  native.readBatch(oneFd, oneCookie, 1, oneRecord, RECORD_STRIDE);
  oneSample.buf = oneRecord;
  oneSample.base = 0;
  if (oneSample.errno !== 0 || oneSample.infoLength <= 0) return null;
  return readingOf(oneSample);
}

function isTls(socket: net.Socket): boolean {
  return socket instanceof tls.TLSSocket;
}

/**
 * tcpi_bytes_acked counts the SYN on the connecting side only (measured on
 * 6.18: an accepted socket that wrote 50,000 bytes reports 50,000, a client
 * that wrote 200,000 reports 200,001). Sockets a net.Server accepted carry
 * `socket.server`; anything else is treated as the connecting side, which can
 * only under-report acknowledgement by one byte, never over-report it.
 */
function synOffsetOf(socket: net.Socket): number {
  return (socket as net.Socket & { server?: unknown }).server ? 0 : 1;
}

function finQueued(socket: net.Socket, state: number): number {
  if (state === ST.FIN_WAIT1 || state === ST.CLOSING || state === ST.LAST_ACK) return 1;
  // After death (CLOSE) the state no longer says whether a FIN was queued;
  // Node finishing its shutdown() does.
  return state === ST.CLOSE && socket.writableFinished ? 1 : 0;
}

/** Byte accounting of a socket; all values in bytes. */
export interface Delivery {
  /** Bytes the application has written (Node's `socket.bytesWritten`, userland buffer included). */
  written: number;
  /** Bytes of `written` the peer acknowledged: min(written, tcpi_bytes_acked − SYN). */
  acknowledged: number;
  /** Bytes in the kernel's send queue, sent or not, unacknowledged (SIOCOUTQ minus a queued FIN). */
  inKernel: number;
  /** Bytes still in Node's userland (written − acknowledged − inKernel, never negative). */
  inUserland: number;
}

function account(socket: net.Socket, r: Reading): Delivery {
  const written = socket.bytesWritten ?? 0;
  const kernelQueue = Math.max(0, r.sendQueue - finQueued(socket, r.state));
  let acknowledged: number;
  if (r.bytesAcked >= 0) {
    acknowledged = Math.min(written, Math.max(0, r.bytesAcked - synOffsetOf(socket)));
  } else {
    acknowledged = Math.max(0, written - kernelQueue - socket.writableLength);
  }
  const inKernel = Math.min(kernelQueue, written - acknowledged);
  return { written, acknowledged, inKernel, inUserland: Math.max(0, written - acknowledged - inKernel) };
}

/** Unacknowledged bytes for an error: exact for plain TCP, an upper bound for TLS (see docs). */
function unacknowledgedOf(socket: net.Socket, r: Reading | null): number {
  const written = socket.bytesWritten ?? 0;
  if (!r) return written;
  if (isTls(socket)) {
    return Math.min(written, Math.max(0, r.sendQueue - finQueued(socket, r.state)) + socket.writableLength);
  }
  const d = account(socket, r);
  return d.written - d.acknowledged;
}

function validateSocket(socket: unknown): asserts socket is net.Socket {
  if (!(socket instanceof net.Socket)) throw invalidArgType('socket', 'an instance of net.Socket or tls.TLSSocket', socket);
}

/**
 * Where the bytes written to `socket` are now: acknowledged by the peer, in
 * the kernel's send queue, or still in Node's userland buffer. Plain TCP
 * only: a TLS socket throws ERR_INVALID_ARG_VALUE (Node counts plaintext, the
 * kernel ciphertext; use {@link acked} there). A socket still connecting has
 * everything in userland. A destroyed socket throws ERR_SOCKET_CLOSED.
 *
 * tcp_info and SIOCOUTQ are two syscalls: an ACK landing between them can
 * shift a few bytes from `inKernel` to `inUserland` in that one reading.
 */
export function delivery(socket: net.Socket): Delivery {
  validateSocket(socket);
  if (isTls(socket)) throw invalidArgValue('socket', 'tls.TLSSocket', 'must be a plain TCP socket: TLS byte counts are ciphertext in the kernel and plaintext in Node');
  if (socket.connecting && !socket.destroyed) {
    const written = socket.bytesWritten ?? 0;
    return { written, acknowledged: 0, inKernel: 0, inUserland: written };
  }
  const fd = fdOf(socket, 'socket');
  const r = readNow(fd, 0n);
  if (!r) throw codedError('ERR_SOCKET_CLOSED', 'Socket is closed');
  return account(socket, r);
}

// ---------------------------------------------------------------------------
// Retained bytes

/** The written stream from `start` on, kept until the peer acknowledges it. */
class Retainer {
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

const EMPTY = Buffer.alloc(0);

function toBuffer(chunk: unknown, encoding: string): Buffer {
  if (Buffer.isBuffer(chunk)) return Buffer.from(chunk); // copy: the caller may reuse it after the callback
  if (typeof chunk === 'string') return Buffer.from(chunk, (encoding || 'utf8') as BufferEncoding);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  return EMPTY;
}

/** Chunks still queued in Node's Writable (not yet handed to _write), in order. */
function pendingUserland(socket: net.Socket): Buffer[] {
  const pending = (socket as net.Socket & { writableBuffer?: Array<{ chunk: unknown; encoding: string }> }).writableBuffer;
  return pending ? pending.map((e) => toBuffer(e.chunk, e.encoding)) : [];
}

// ---------------------------------------------------------------------------
// Per-socket tracking

interface Waiter {
  /** Plain TCP: stream offset that must be acknowledged. TLS: -1 (queue-empty rule). */
  target: number;
  resolve(): void;
  reject(err: Error): void;
  cleanup(): void;
  settled: boolean;
}

type WriteFn = (chunk: unknown, encoding: string, cb: (err?: Error | null) => void) => void;
type WritevFn = (chunks: Array<{ chunk: unknown; encoding: string } | Buffer>, cb: (err?: Error | null) => void) => void;
type DestroyFn = (err: Error | null, cb: (err: Error | null) => void) => void;

class Track {
  fd = -1;
  cookie = 0n;
  private reg: Registration | null = null;
  private interval = ACK_POLL_MIN_MS;
  private lastBytesAcked = -1;
  waiters: Waiter[] = [];
  retainer: Retainer | null = null;
  /** Reading taken in _destroy, when the fd was last usable. */
  final: Reading | null = null;
  /** retain()'s suffix as of _destroy. */
  private finalSuffix: Buffer | undefined;
  closed = false;
  readonly tls: boolean;

  constructor(readonly socket: net.Socket) {
    this.tls = isTls(socket);
    this.hookWrites();
    this.hookDestroy();
    this.attach();
    // Not connected yet (connecting, or connect() not even called): attach on 'connect'.
    if (this.fd < 0) socket.once('connect', () => { this.attach(); this.poke(); });
  }

  private attach(): void {
    // While connecting, Node may still replace the handle (autoSelectFamily tries one per address).
    if (this.fd >= 0 || this.socket.destroyed || this.socket.connecting) return;
    let fd: number;
    try { fd = fdOf(this.socket, 'socket'); } catch { return; }
    const c = native.cookie(fd);
    this.fd = fd;
    this.cookie = typeof c === 'bigint' ? c : 0n;
  }

  /** A fresh reading, or null when there is no usable fd (connecting, closed). */
  read(): Reading | null {
    if (this.closed) return this.final;
    if (this.fd < 0) this.attach();
    if (this.fd < 0) return null;
    return readNow(this.fd, this.cookie);
  }

  private hookWrites(): void {
    const socket = this.socket as net.Socket & { _write: WriteFn; _writev?: WritevFn };
    const write = socket._write;
    const writev = socket._writev;
    const done = (cb: (err?: Error | null) => void) => (err?: Error | null) => {
      cb(err);
      if (this.waiters.length > 0) this.poke();
    };
    socket._write = (chunk, encoding, cb) => {
      if (this.retainer) this.retain([toBuffer(chunk, encoding)]);
      write.call(socket, chunk, encoding, done(cb));
    };
    if (writev) {
      socket._writev = (chunks, cb) => {
        if (this.retainer) this.retain(chunks.map((e) => (Buffer.isBuffer(e) ? Buffer.from(e) : toBuffer(e.chunk, e.encoding))));
        writev.call(socket, chunks, done(cb));
      };
    }
  }

  private hookDestroy(): void {
    const socket = this.socket as net.Socket & { _destroy: DestroyFn };
    const destroy = socket._destroy;
    socket._destroy = (err, cb) => {
      this.onDestroy(err);
      destroy.call(socket, err, cb);
    };
  }

  private retain(chunks: Buffer[]): void {
    const r = this.retainer!;
    for (const c of chunks) r.append(c);
    if (r.size > r.maxRetainedBytes) {
      const reading = this.read();
      if (reading) r.trim(account(this.socket, reading).acknowledged);
      if (r.size > r.maxRetainedBytes) r.overflow();
    }
    this.schedule();
  }

  /** The unacknowledged suffix of the written stream, or undefined (retain off or incomplete). */
  suffix(): Buffer | undefined {
    const r = this.retainer;
    if (!r || this.tls) return undefined;
    if (this.closed) return this.finalSuffix;
    const reading = this.read();
    const acknowledged = reading ? account(this.socket, reading).acknowledged : r.start;
    const own = r.suffixFrom(acknowledged);
    if (!own) return undefined;
    const pending = pendingUserland(this.socket);
    return pending.length ? Buffer.concat([own, ...pending]) : own;
  }

  private onDestroy(err: Error | null): void {
    if (this.closed) return;
    // The fd is still open here for the last time: take the final reading,
    // and the suffix while Node's write buffer still holds its chunks.
    const finalReading = this.read();
    if (this.retainer) {
      this.finalSuffix = this.suffix();
      const e = err as (Error & Partial<PeerGoneError>) | null;
      if (e && e.unacknowledged === undefined && this.finalSuffix) e.unacknowledged = this.finalSuffix;
      if (e && typeof e.unacknowledgedBytes !== 'number') e.unacknowledgedBytes = unacknowledgedOf(this.socket, finalReading);
    }
    this.final = finalReading;
    this.closed = true;
    this.unschedule();
    if (this.hasWaiters()) this.settle(finalReading, err ?? undefined, true);
  }

  poke(): void {
    this.interval = ACK_POLL_MIN_MS;
    this.schedule();
    if (this.reg) { this.reg.setInterval(this.interval); this.reg.pokeSoon(); }
  }

  private wanted(): boolean {
    return !this.closed && (this.waiters.length > 0 || (this.retainer !== null && this.retainer.size > 0));
  }

  schedule(): void {
    if (!this.wanted()) { this.unschedule(); return; }
    if (this.reg || this.fd < 0) return;
    const every = this.waiters.length > 0 ? this.interval : RETAIN_TRIM_MS;
    this.reg = scheduler.add(this.fd, this.cookie, every, {
      onSample: (sample) => this.onSample(sample),
      valid: () => !this.socket.destroyed && !this.closed,
    });
  }

  private unschedule(): void {
    if (this.reg) { this.reg.remove(); this.reg = null; }
  }

  private onSample(sample: Sample): void {
    if (sample.errno !== 0 || sample.infoLength <= 0) { this.unschedule(); return; }
    const r = readingOf(sample);
    if (this.retainer) this.retainer.trim(account(this.socket, r).acknowledged);
    if (this.hasWaiters()) this.settle(r, undefined, false);
    if (!this.wanted()) { this.unschedule(); return; }
    const progressed = r.bytesAcked !== this.lastBytesAcked;
    this.lastBytesAcked = r.bytesAcked;
    if (this.waiters.length > 0) {
      this.interval = progressed ? ACK_POLL_MIN_MS : Math.min(ACK_POLL_MAX_MS, this.interval * 2);
    } else {
      this.interval = RETAIN_TRIM_MS;
    }
    this.reg?.setInterval(this.interval);
  }

  /** Drops settled waiters from the front of the queue; true while any is left. */
  hasWaiters(): boolean {
    let i = 0;
    while (i < this.waiters.length && this.waiters[i].settled) i++;
    if (i > 0) this.waiters = i === this.waiters.length ? [] : this.waiters.slice(i);
    return this.waiters.length > 0;
  }

  /**
   * Resolves the waiters whose bytes are acknowledged according to `r`;
   * rejects the rest when the connection is over (`final`) or the kernel
   * says it is dead (CLOSE). Plain TCP waiters are queued in ascending target
   * order (bytesWritten only grows), TLS ones share one condition, so the
   * scan stops at the first one still waiting.
   */
  settle(r: Reading | null, err: Error | undefined, final: boolean): void {
    let acknowledged = -1;
    let queueEmpty = false;
    if (r) {
      if (!this.tls && r.bytesAcked >= 0) acknowledged = account(this.socket, r).acknowledged;
      queueEmpty = this.socket.writableLength === 0 && r.sendQueue - finQueued(this.socket, r.state) <= 0;
    }
    for (const w of this.waiters) {
      if (w.settled) continue;
      const done = w.target >= 0 && acknowledged >= 0 ? acknowledged >= w.target : queueEmpty;
      if (!done) break;
      w.settled = true;
      w.cleanup();
      w.resolve();
    }
    if (!this.hasWaiters()) return;
    const dead = final || (r !== null && r.state === ST.CLOSE);
    if (!dead) return;
    const error = deathError(this.socket, r, err, final);
    for (const w of this.waiters) {
      if (w.settled) continue;
      w.settled = true;
      w.cleanup();
      w.reject(error);
    }
    this.waiters = [];
  }

  /** A waiter gave up (timeout, signal): forget it, and the registration when it was the last. */
  abandoned(): void {
    if (!this.waiters.some((w) => !w.settled)) this.waiters = [];
    this.schedule();
  }
}

/** The error acked() rejects with when the connection ends first (see docs/api-delivery.md). */
function deathError(socket: net.Socket, r: Reading | null, cause: Error | undefined, closedBySocket: boolean): Error {
  const unacknowledgedBytes = unacknowledgedOf(socket, r);
  const c = cause as (Error & Partial<PeerGoneError>) | undefined;
  if (c && c.code === 'ETIMEDOUT' && typeof c.reason === 'string') {
    if (typeof c.unacknowledgedBytes !== 'number') c.unacknowledgedBytes = unacknowledgedBytes;
    return c; // failFast's PeerGoneError (or Node's ETIMEDOUT that failFast augmented)
  }
  if (c || !closedBySocket) {
    const detail = c
      ? `the connection failed with ${(c as { code?: string }).code ?? c.message} before every written byte was acknowledged`
      : 'the kernel closed the connection (tcp_info state CLOSE) before every written byte was acknowledged';
    const e = peerGoneError('kernel', unacknowledgedBytes, detail);
    if (c) (e as Error & { cause?: unknown }).cause = c;
    return e;
  }
  const e = codedError('ERR_SOCKET_CLOSED', 'Socket was closed before every written byte was acknowledged') as Error & { code: string; unacknowledgedBytes: number };
  e.unacknowledgedBytes = unacknowledgedBytes;
  return e;
}

const tracks = new WeakMap<net.Socket, Track>();

function trackOf(socket: net.Socket): Track {
  let t = tracks.get(socket);
  if (!t) { t = new Track(socket); tracks.set(socket, t); }
  return t;
}

/**
 * Starts following `socket` (write and destroy hooks) so that a later
 * acked() still has the reading taken when the socket was destroyed, e.g.
 * by Node itself right after the peer's EOF. Used by gracefulClose().
 * @internal
 */
export function followDelivery(socket: net.Socket): void {
  if (!socket.destroyed) trackOf(socket);
}

// ---------------------------------------------------------------------------
// acked()

/** Options of {@link acked}. */
export interface AckedOptions {
  /** Abort the wait: rejects with an AbortError (`code` 'ABORT_ERR', `cause` = signal.reason). */
  signal?: AbortSignal;
  /** Give up after this many ms: rejects with an AbortError whose `cause` is a TimeoutError. */
  timeout?: number;
}

/** Node's AbortError shape (`name` 'AbortError', `code` 'ABORT_ERR', `cause`). */
export interface AckAbortError extends Error {
  code: 'ABORT_ERR';
  cause: unknown;
  /** Bytes not yet acknowledged when the wait was abandoned. */
  unacknowledgedBytes: number;
}

function abortError(cause: unknown, message: string, unacknowledgedBytes: number): AckAbortError {
  const err = new Error(message, { cause }) as AckAbortError;
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  err.unacknowledgedBytes = unacknowledgedBytes;
  return err;
}

function timeoutReason(ms: number): Error {
  const e = new Error(`acked() timed out after ${ms} ms`);
  e.name = 'TimeoutError';
  return e;
}

/**
 * Resolves once every byte written to `socket` so far has been acknowledged
 * by the peer's TCP stack (not necessarily read by the peer application).
 *
 * Rejects with:
 * - a {@link PeerGoneError} (`code` 'ETIMEDOUT') when the connection dies
 *   first: failFast's own error object, or `reason` 'kernel' with the
 *   socket's error as `cause` (ECONNRESET, Node's ETIMEDOUT, ...), also when
 *   tcp_info shows the kernel closed the connection while Node was not reading;
 * - an ERR_SOCKET_CLOSED error when the application closed the socket without
 *   an error before the bytes were acknowledged (the kernel may still deliver them);
 * - an AbortError (`code` 'ABORT_ERR') when `signal` aborts (`cause` =
 *   signal.reason) or `timeout` ms pass (`cause` a TimeoutError); the
 *   connection itself is left alone.
 * Every rejection carries `unacknowledgedBytes`.
 *
 * All waits on a socket share one registration with the shared scheduler.
 * Polling runs at 10 ms after progress, slowing to 250 ms while nothing moves;
 * a completed write schedules a check at once.
 */
export function acked(socket: net.Socket, options: AckedOptions = {}): Promise<void> {
  try {
    validateSocket(socket);
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    const { signal, timeout } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
    if (timeout !== undefined) validateInteger('options.timeout', timeout, 0, 2 ** 31 - 1);
    if (signal?.aborted) return Promise.reject(abortError(signal.reason, 'The operation was aborted', pendingCount(socket)));
    if (socket.destroyed) {
      // Settled from the reading taken as the socket was destroyed, if acked() or retain() tracked it.
      const final = tracks.get(socket)?.final ?? null;
      if (final && account(socket, final).acknowledged >= (socket.bytesWritten ?? 0)) return Promise.resolve();
      const e = codedError('ERR_SOCKET_CLOSED', 'Socket is closed') as Error & { code: string; unacknowledgedBytes: number };
      e.unacknowledgedBytes = unacknowledgedOf(socket, final);
      return Promise.reject(e);
    }
    return wait(trackOf(socket), signal, timeout);
  } catch (err) {
    return Promise.reject(err);
  }
}

function pendingCount(socket: net.Socket): number {
  if (socket.destroyed || socket.connecting) return socket.bytesWritten ?? 0;
  const t = tracks.get(socket);
  let r: Reading | null = null;
  try { r = t ? t.read() : readNow(fdOf(socket, 'socket'), 0n); } catch { /* no fd */ }
  return unacknowledgedOf(socket, r);
}

function wait(track: Track, signal: AbortSignal | undefined, timeout: number | undefined): Promise<void> {
  const socket = track.socket;
  const target = track.tls ? -1 : socket.bytesWritten ?? 0;
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    const onAbort = (): void => abandon(abortError(signal!.reason, 'The operation was aborted', 0));
    const waiter: Waiter = {
      target,
      resolve,
      reject,
      settled: false,
      cleanup: () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      },
    };
    const abandon = (err: AckAbortError): void => {
      if (waiter.settled) return;
      waiter.settled = true;
      waiter.cleanup();
      err.unacknowledgedBytes = pendingCount(socket);
      track.abandoned();
      reject(err);
    };
    // Fast path: already acknowledged (or already dead) needs no registration.
    // With earlier waiters still pending this one cannot be done either
    // (its target is at least theirs): skip the read.
    const busy = track.hasWaiters();
    track.waiters.push(waiter);
    if (!busy) {
      const now = track.read();
      if (now) track.settle(now, undefined, false);
      if (waiter.settled) return;
    }
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        const reason = timeoutReason(timeout);
        abandon(abortError(reason, reason.message, 0));
      }, timeout);
      timer.unref();
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    track.poke();
  });
}

// ---------------------------------------------------------------------------
// retain()

/** Options of {@link retain}. */
export interface RetainOptions {
  /**
   * Most unacknowledged bytes kept, default 16 MiB. Past it the retained
   * bytes are released and the suffix is incomplete (retainedUnacknowledged
   * gives undefined) until the peer acknowledges everything written up to
   * that moment; retaining then covers the bytes written after it.
   */
  maxRetainedBytes?: number;
}

/** State of retain() on a socket. */
export interface Retention {
  /** The configured bound, bytes. */
  maxRetainedBytes: number;
  /** Bytes held right now (unacknowledged as of the last trim). */
  retainedBytes: number;
  /** Whether the held bytes cover everything unacknowledged (false after an overflow, until acks pass it). */
  complete: boolean;
  /** Times the bound was exceeded. */
  overflows: number;
}

/**
 * Keeps a copy of every byte written to `socket` until the peer acknowledges
 * it, so that the error the connection dies with carries `unacknowledged`:
 * exactly the suffix of the written stream the peer did not acknowledge
 * (Node's still-buffered writes included), ready to resend elsewhere.
 * At-least-once: the peer may have received bytes whose ACK was lost.
 *
 * Call it before the first write (ERR_INVALID_STATE otherwise); plain TCP
 * only (ERR_INVALID_ARG_VALUE for a TLS socket). Calling it again changes the bound.
 */
export function retain(socket: net.Socket, options: RetainOptions = {}): void {
  validateSocket(socket);
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const max = options.maxRetainedBytes === undefined
    ? DEFAULT_MAX_RETAINED_BYTES
    : validateInteger('options.maxRetainedBytes', options.maxRetainedBytes, 1, Number.MAX_SAFE_INTEGER);
  if (isTls(socket)) throw invalidArgValue('socket', 'tls.TLSSocket', 'must be a plain TCP socket: the kernel acknowledges TLS ciphertext, not the written plaintext');
  if (socket.destroyed) throw codedError('ERR_SOCKET_CLOSED', 'Socket is closed');
  const existing = tracks.get(socket)?.retainer;
  if (existing) { existing.maxRetainedBytes = max; return; }
  if ((socket.bytesWritten ?? 0) > 0 || socket.writableLength > 0) {
    throw codedError('ERR_INVALID_STATE', 'Invalid state: retain() must be enabled before the first byte is written to the socket');
  }
  trackOf(socket).retainer = new Retainer(max);
}

/** retain()'s state on `socket`, or undefined when retain is off. */
export function retention(socket: net.Socket): Retention | undefined {
  validateSocket(socket);
  const t = tracks.get(socket);
  const r = t?.retainer;
  if (!t || !r) return undefined;
  const reading = t.read();
  if (reading) r.trim(account(socket, reading).acknowledged);
  const acknowledged = reading ? account(socket, reading).acknowledged : r.start;
  return { maxRetainedBytes: r.maxRetainedBytes, retainedBytes: r.size, complete: acknowledged >= r.start, overflows: r.overflows };
}

/**
 * With `retain` enabled on `socket`, the exact suffix of the written stream
 * the peer has not acknowledged (Node's userland buffer included); undefined
 * when retain is off, for TLS, or when the bound was exceeded and the suffix
 * is incomplete. Works before the socket is destroyed (reads tcp_info) and
 * after (from the reading taken as it was destroyed).
 */
export function retainedUnacknowledged(socket: net.Socket): Buffer | undefined {
  if (!(socket instanceof net.Socket)) return undefined;
  return tracks.get(socket)?.suffix();
}
