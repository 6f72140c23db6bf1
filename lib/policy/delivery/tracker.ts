/**
 * Per-socket tracking for acked() and retain(): every socket either is used
 * on gets one {@link Track}: one scheduler registration however many acked()
 * calls wait on it, write hooks (to see the byte stream in order and to
 * notice completed writes at once) and a destroy hook (the last moment the fd
 * can be read), all from runtime/socket-hooks.
 */
import * as net from 'node:net';
import { PeerGoneError } from '../../common/errors';
import { fdOrNone } from '../../kernel/fd';
import { cookieOrNone } from '../../kernel/identity';
import { Registration, Sample, scheduler } from '../../runtime/scheduler';
import { onDestroy, onWrite, onWritten } from '../../runtime/socket-hooks';
import { account, unacknowledgedOf } from './account';
import { isTls, Reading, readingOf, readNow } from './reading';
import { Retainer, toBuffer } from './retainer';
import { WaiterQueue } from './waiters';

/** Fastest acked() polling, ms (right after progress or a completed write). */
const ACK_POLL_MIN_MS = 10;
/** Slowest acked() polling, ms (the interval doubles while nothing moves). */
const ACK_POLL_MAX_MS = 250;
/** How often retained bytes are trimmed when no acked() is waiting, ms. */
const RETAIN_TRIM_MS = 100;

/** What acked() and retain() know about one socket. */
export class Track {
  fd = -1;
  cookie = 0n;
  private reg: Registration | null = null;
  private interval = ACK_POLL_MIN_MS;
  private lastBytesAcked = -1;
  readonly waiters = new WaiterQueue();
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
    const fd = fdOrNone(this.socket);
    if (fd < 0) return;
    // A cookie that cannot be read or no longer matches: no usable fd (never 0n, which disables the guard).
    const cookie = cookieOrNone(this.socket, fd);
    if (cookie === null) return;
    this.fd = fd;
    this.cookie = cookie;
  }

  /** A fresh reading, or null when there is no usable fd (connecting, closed). */
  read(): Reading | null {
    if (this.closed) return this.final;
    if (this.fd < 0) this.attach();
    if (this.fd < 0) return null;
    return readNow(this.fd, this.cookie);
  }

  private hookWrites(): void {
    onWrite(this.socket, (chunks) => {
      if (this.retainer) this.retain(chunks.map((c) => toBuffer(c.chunk, c.encoding)));
    });
    onWritten(this.socket, () => {
      if (this.waiters.length > 0) this.poke();
    });
  }

  private hookDestroy(): void {
    onDestroy(this.socket, (err) => this.onDestroy(err), 'observe');
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
    return r.suffixFrom(acknowledged); // Node's buffer included, bounded (retainer.ts)
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
    return this.waiters.prune();
  }

  /** Settles the waiters from `r` (see {@link WaiterQueue.settle}). */
  settle(r: Reading | null, err: Error | undefined, final: boolean): void {
    this.waiters.settle(this.socket, this.tls, r, err, final);
  }

  /** A waiter gave up (timeout, signal): forget it, and the registration when it was the last. */
  abandoned(): void {
    this.waiters.dropIfAllSettled();
    this.schedule();
  }
}

const tracks = new WeakMap<net.Socket, Track>();

/** The {@link Track} of `socket`, created (hooks installed) on first use. */
export function trackOf(socket: net.Socket): Track {
  let t = tracks.get(socket);
  if (!t) { t = new Track(socket); tracks.set(socket, t); }
  return t;
}

/** The {@link Track} of `socket` if acked() or retain() already follows it. */
export function existingTrack(socket: net.Socket): Track | undefined {
  return tracks.get(socket);
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
