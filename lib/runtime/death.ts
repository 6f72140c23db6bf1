/**
 * The one error builder of the engine (protect() and failFast() alike): a
 * {@link PeerGoneError} for a death it detects, or Node's own ETIMEDOUT
 * augmented in place; both with `reason`, `unacknowledgedBytes`, `silentMs`
 * and `diagnosis` (the diagnose() verdict of the last reading).
 */
import { DeathReason, markPeerGone, peerGoneError, PeerGoneError } from '../common/errors';
import type { Sample } from '../kernel/batch';
import { TCP_INFO_OFFSETS } from '../kernel/tcpinfo';
import type { DeathReading } from '../model/death-step';
import { diagnoseReading } from '../model/diagnose';
import type { ReasonReading } from '../model/reason';
import type * as net from 'node:net';
import { unacknowledgedOfSocket } from './accounting';

const OFF = TCP_INFO_OFFSETS;

/** ms since the peer was last heard from (an ACK or data), from one reading; 0 if unknown. */
export function silentFrom(s: Sample): number {
  if (!s.has(OFF.lastAckRecv, 4)) return 0;
  return Math.min(s.u32(OFF.lastAckRecv), s.u32(OFF.lastDataRecv));
}

/** Fills the classifier's fields (model/reason) of `into` from batch record `s`: the engine's and watch()'s readings. */
export function reasonReadingOf<R extends ReasonReading>(s: Sample, into: R): R {
  into.state = s.state;
  into.sendQueue = s.sendQueue;
  into.unsent = s.unsent;
  into.retransmits = s.u8(OFF.retransmits);
  into.probes = s.u8(OFF.probes);
  into.sndWnd = s.has(OFF.sndWnd, 4) ? s.u32(OFF.sndWnd) : undefined;
  return into;
}

/** Fills `into` (reused by the caller: no allocation per reading) from batch record `s`. */
export function deathReadingOf(s: Sample, into: DeathReading): DeathReading {
  reasonReadingOf(s, into);
  into.bytesAcked = s.has(OFF.bytesAcked, 8) ? s.u64(OFF.bytesAcked) : -1;
  into.silentMs = silentFrom(s);
  return into;
}

/** A blank {@link DeathReading}. */
export function newDeathReading(): DeathReading {
  return { state: 0, sendQueue: 0, unsent: 0, retransmits: 0, probes: 0, sndWnd: undefined, bytesAcked: -1, silentMs: 0 };
}

/** Bytes written and not acknowledged by the reading `s` (none: everything written counts). */
function unacknowledged(socket: net.Socket, s: Sample | null): number {
  return unacknowledgedOfSocket(socket, s && s.has(OFF.bytesAcked, 8) ? s.u64(OFF.bytesAcked) : -1, s ? s.sendQueue : -1);
}

/** Fills `err.silentMs` (unless known) and `err.diagnosis` from the last reading (decoded: deaths are rare). */
function describeDeath(err: PeerGoneError, s: Sample | null): PeerGoneError {
  if (!s || s.errno !== 0 || s.infoLength === 0) return err;
  if (err.silentMs === undefined) err.silentMs = silentFrom(s);
  try {
    const sendQueue = Math.max(0, s.sendQueue);
    err.diagnosis = diagnoseReading(s.decode(), {
      sendQueue, unsent: s.unsent, unacknowledged: Math.max(0, sendQueue - s.unsent), receiveQueue: 0,
    });
  } catch {
    // A reading too short to judge: the error goes out without a verdict.
  }
  return err;
}

/** A death the engine detected on `socket`: a PeerGoneError from the last reading `s`. */
export function peerGone(socket: net.Socket, reason: DeathReason, detail: string, s: Sample | null, silentMs?: number): PeerGoneError {
  const err = peerGoneError(reason, unacknowledged(socket, s), detail);
  if (silentMs !== undefined) err.silentMs = silentMs;
  return describeDeath(err, s);
}

/** Node's own ETIMEDOUT on `socket`, augmented in place with what the engine knows. */
export function augmentTimeout(err: Error, socket: net.Socket, reason: DeathReason, s: Sample | null, silentMs?: number): PeerGoneError {
  const e = markPeerGone(err, reason, unacknowledged(socket, s));
  if (silentMs !== undefined) e.silentMs = silentMs;
  return describeDeath(e, s);
}
