/**
 * The queue of acked() calls waiting on one socket, and the error they are
 * rejected with when the connection ends first.
 */
import * as net from 'node:net';
import { codedError, isPeerGoneError, peerGoneError, PeerGoneError } from '../../common/errors';
import { account, unacknowledgedOf } from './account';
import { TCP_STATE } from '../../kernel/tcpinfo';
import { finQueued, Reading } from './reading';

/** One pending acked() call. */
export interface Waiter {
  /** Plain TCP: stream offset that must be acknowledged. TLS: -1 (queue-empty rule). */
  target: number;
  resolve(): void;
  reject(err: Error): void;
  cleanup(): void;
  settled: boolean;
}

/** The acked() calls waiting on one socket, in the order they were made. */
export class WaiterQueue {
  private items: Waiter[] = [];
  /** Waiters of `items` not settled yet (so that "all settled?" is O(1)). */
  private pending = 0;

  /** Waiters queued, including settled ones not yet dropped. */
  get length(): number {
    return this.items.length;
  }

  push(waiter: Waiter): void {
    this.items.push(waiter);
    if (!waiter.settled) this.pending++;
  }

  /** Marks `waiter` settled (the caller resolves or rejects it). */
  settleOne(waiter: Waiter): void {
    if (waiter.settled) return;
    waiter.settled = true;
    this.pending--;
  }

  /** Drops settled waiters from the front of the queue; true while any is left. */
  prune(): boolean {
    if (this.pending === 0) { this.items = []; return false; }
    let i = 0;
    while (i < this.items.length && this.items[i].settled) i++;
    if (i > 0) this.items = this.items.slice(i);
    return this.items.length > 0;
  }

  /** Forgets every waiter when none is still waiting (one gave up). O(1). */
  dropIfAllSettled(): void {
    if (this.pending === 0) this.items = [];
  }

  /**
   * Resolves the waiters whose bytes are acknowledged according to `r`;
   * rejects the rest when the connection is over (`final`) or the kernel
   * says it is dead (CLOSE). Plain TCP waiters are queued in ascending target
   * order (bytesWritten only grows), TLS ones share one condition, so the
   * scan stops at the first one still waiting.
   */
  settle(socket: net.Socket, tls: boolean, r: Reading | null, err: Error | undefined, final: boolean): void {
    let acknowledged = -1;
    let queueEmpty = false;
    if (r) {
      if (!tls && r.bytesAcked >= 0) acknowledged = account(socket, r).acknowledged;
      queueEmpty = socket.writableLength === 0 && r.sendQueue - finQueued(socket, r.state) <= 0;
    }
    for (const w of this.items) {
      if (w.settled) continue;
      const done = w.target >= 0 && acknowledged >= 0 ? acknowledged >= w.target : queueEmpty;
      if (!done) break;
      this.settleOne(w);
      w.cleanup();
      w.resolve();
    }
    if (!this.prune()) return;
    const dead = final || (r !== null && r.state === TCP_STATE.CLOSE);
    if (!dead) return;
    const error = deathError(socket, r, err, final);
    for (const w of this.items) {
      if (w.settled) continue;
      this.settleOne(w);
      w.cleanup();
      w.reject(error);
    }
    this.items = [];
    this.pending = 0;
  }
}

/** The error acked() rejects with when the connection ends first (see docs/api-delivery.md). */
function deathError(socket: net.Socket, r: Reading | null, cause: Error | undefined, closedBySocket: boolean): Error {
  const unacknowledgedBytes = unacknowledgedOf(socket, r);
  const c = cause as (Error & Partial<PeerGoneError>) | undefined;
  if (isPeerGoneError(c)) {
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
