/**
 * What every detected death carries, in one place for failFast and protect():
 * how long the peer had been silent (`silentMs`), the diagnose() verdict of
 * the last reading (`diagnosis`: is it the network or the peer?). Callers
 * then publish it with connections.ts `publishDeath()`.
 */
import type { PeerGoneError } from '../common/errors';
import { TCP_INFO_OFFSETS } from '../kernel/tcpinfo';
import { diagnoseReading } from '../model/diagnose';
import type { Sample } from './record';

const LAST_ACK = TCP_INFO_OFFSETS.lastAckRecv;
const LAST_DATA = TCP_INFO_OFFSETS.lastDataRecv;

/** ms since the peer was last heard from (an ACK or data), from one reading; 0 if unknown. */
export function silentFrom(s: Sample): number {
  if (!s.has(LAST_ACK, 4)) return 0;
  return Math.min(s.u32(LAST_ACK), s.u32(LAST_DATA));
}

/**
 * Fills `err.silentMs` (unless already known) and `err.diagnosis` from the last
 * reading of the socket (decoded here: deaths are rare, ticks never decode).
 */
export function describeDeath(err: PeerGoneError, s: Sample | null): PeerGoneError {
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
