/**
 * acked(): wait until the peer's TCP stack acknowledged every byte written so far.
 */
import * as net from 'node:net';
import { bytesWrittenBy } from '../../model/accounting';
import { AckAbortError, ackAbortError, codedError } from '../../common/errors';
import { fdOf, requireTcpSocket } from '../../kernel/fd';
import { checkedCookie } from '../../kernel/identity';
import { ownOption, validateInteger, validateObject, validateSignal } from '../../common/validate';
import { account, unacknowledgedOf, validateSocket } from './account';
import { Reading, readNow } from './reading';
import { existingTrack, Track, trackOf } from './tracker';
import { Waiter } from './waiters';

/** Options of {@link acked}. */
export interface AckedOptions {
  /** Abort the wait: rejects with an AbortError (`code` 'ABORT_ERR', `cause` = signal.reason). */
  signal?: AbortSignal;
  /** Give up after this many ms: rejects with an AbortError whose `cause` is a TimeoutError. */
  timeout?: number;
}

export type { AckAbortError } from '../../common/errors';

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
    requireTcpSocket(socket);
    validateObject('options', options);
    const signal = validateSignal('options.signal', ownOption(options, 'signal'));
    const timeout = ownOption(options, 'timeout');
    if (timeout !== undefined) validateInteger('options.timeout', timeout, 0, 2 ** 31 - 1);
    if (signal?.aborted) return Promise.reject(ackAbortError(signal.reason, 'The operation was aborted', pendingCount(socket)));
    if (socket.destroyed) {
      // Settled from the reading taken as the socket was destroyed, if acked() or retain() tracked it.
      const final = existingTrack(socket)?.final ?? null;
      if (final && account(socket, final).acknowledged >= bytesWrittenBy(socket)) return Promise.resolve();
      const e = codedError('ERR_SOCKET_CLOSED', 'Socket is closed') as Error & { code: string; unacknowledgedBytes: number };
      e.unacknowledgedBytes = unacknowledgedOf(socket, final);
      return Promise.reject(e);
    }
    return wait(trackOf(socket), signal, timeout);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Bytes of `socket` not yet acknowledged right now (for an AbortError). */
function pendingCount(socket: net.Socket): number {
  if (socket.destroyed || socket.connecting) return bytesWrittenBy(socket);
  const t = existingTrack(socket);
  let r: Reading | null = null;
  try {
    const fd = fdOf(socket, 'socket');
    r = t ? t.read() : readNow(fd, checkedCookie(socket, fd));
  } catch { /* no fd, or no longer this socket's */ }
  return unacknowledgedOf(socket, r);
}

/**
 * The acked() calls waiting on each AbortSignal: one 'abort' listener per
 * signal however many calls share it (EventTarget's add/remove are linear in
 * the listener count), each call's abandon kept in a Set (O(1) add/remove).
 */
const bySignal = new WeakMap<AbortSignal, Set<() => void>>();

function onAbort(signal: AbortSignal, abandon: () => void): () => void {
  let set = bySignal.get(signal);
  if (!set) {
    const waiting = new Set<() => void>();
    set = waiting;
    bySignal.set(signal, waiting);
    signal.addEventListener('abort', () => {
      bySignal.delete(signal);
      for (const f of waiting) f();
      waiting.clear();
    }, { once: true });
  }
  const s = set;
  s.add(abandon);
  return () => { s.delete(abandon); };
}

function wait(track: Track, signal: AbortSignal | undefined, timeout: number | undefined): Promise<void> {
  const socket = track.socket;
  const target = track.tls ? -1 : bytesWrittenBy(socket);
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    let unlisten: (() => void) | null = null;
    const waiter: Waiter = {
      target,
      resolve,
      reject,
      settled: false,
      cleanup: () => {
        if (timer) clearTimeout(timer);
        if (unlisten) unlisten();
      },
    };
    const abandon = (err: AckAbortError): void => {
      if (waiter.settled) return;
      track.waiters.settleOne(waiter);
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
        abandon(ackAbortError(reason, reason.message, 0));
      }, timeout);
      timer.unref();
    }
    if (signal) unlisten = onAbort(signal, () => abandon(ackAbortError(signal.reason, 'The operation was aborted', 0)));
    track.poke();
  });
}
