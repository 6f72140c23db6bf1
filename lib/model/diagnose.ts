/**
 * diagnoseReading(): is it the network or the peer? A verdict from one
 * reading of tcp_info and the queue sizes, pure (no I/O), with the evidence
 * in plain words. The kernel knows the difference:
 * - bytes unacknowledged and retransmitting: the network or the peer's host is gone;
 * - a zero window: the peer is alive but its application is not reading;
 * - every byte acknowledged by the peer's kernel and nothing received since:
 *   the peer's application is silent (the network is fine).
 */
import { invalidArgType } from '../common/errors';
import { INT32_MAX, ownOption, validateNumber, validateObject } from '../common/validate';
import type { Queues } from '../kernel/sockopt';
import type { TcpInfo } from '../kernel/tcpinfo';
import { formatDuration } from './format';

/** What one reading says about a connection. */
export type Verdict = 'network' | 'peer-not-reading' | 'peer-app-silent' | 'idle' | 'healthy' | 'closed';

/** The verdicts, in the order {@link diagnoseReading} tests them. */
export const VERDICTS: readonly Verdict[] = ['closed', 'network', 'peer-not-reading', 'peer-app-silent', 'idle', 'healthy'];

/** The tcp_info fields the verdict uses (units as in TcpInfo: rto, rtt µs; ages ms). */
export type DiagnoseInfo = Pick<TcpInfo, 'state' | 'retransmits' | 'probes' | 'rto' | 'rtt'
  | 'lastDataSent' | 'lastDataRecv' | 'lastAckRecv'> & Partial<Pick<TcpInfo, 'sndWnd' | 'bytesAcked' | 'bytesReceived'>>;

/** A verdict with its evidence. */
export interface Diagnosis {
  verdict: Verdict;
  /** The evidence in plain words, e.g. "peer application silent for 4.2 s; network fine (...)". */
  evidence: string;
  /** How long the condition has lasted, ms (null where it does not apply: healthy, closed, SYN_SENT). */
  durationMs: number | null;
  /** Wall-clock time (epoch ms) the condition started, `now - durationMs`; null with durationMs. */
  since: number | null;
  /** TCP state name. */
  state: string;
  /** Bytes sent and not acknowledged by the peer's kernel. */
  unacknowledgedBytes: number;
  /** Bytes queued and never sent. */
  unsentBytes: number;
  /** Bytes received and not read by this application. */
  receiveQueueBytes: number;
  /** Consecutive retransmission timeouts now (tcpi_retransmits). */
  retransmits: number;
  /** Time since anything (an ACK) was last heard from the peer, ms. */
  lastHeardMs: number;
}

/** Options of {@link diagnoseReading}. */
export interface DiagnoseOptions {
  /** A connection with no data either way for this long is 'idle' (default 1000 ms). */
  idleAfterMs?: number;
}

const OPEN_STATES = new Set(['ESTABLISHED', 'SYN_SENT', 'SYN_RECV']);

function words(ms: number): string {
  return formatDuration(ms);
}

/**
 * `options.idleAfterMs` (default 1000), checked: ERR_INVALID_ARG_TYPE for
 * options that are not an object or an idleAfterMs that is not a number,
 * ERR_OUT_OF_RANGE for NaN, a negative or an infinite one.
 */
export function idleAfterOf(options: DiagnoseOptions | undefined): number {
  const o = validateObject('options', options, true) as DiagnoseOptions;
  const v = ownOption(o, 'idleAfterMs');
  return v === undefined ? 1000 : validateNumber('options.idleAfterMs', v, 0, INT32_MAX);
}

/**
 * The verdict of one reading: `info` from tcpInfo(), `q` from queues(), `now`
 * the wall-clock time of the reading (epoch ms, for `since`). Pure; the
 * tcp_info ages make it independent of when it is called.
 */
export function diagnoseReading(info: DiagnoseInfo, q: Queues, now: number = Date.now(), options: DiagnoseOptions = {}): Diagnosis {
  if (info === null || typeof info !== 'object') throw invalidArgType('info', 'of type object', info);
  if (q === null || typeof q !== 'object') throw invalidArgType('queues', 'of type object', q);
  const idleAfterMs = idleAfterOf(options);
  const unacked = Math.max(0, q.unacknowledged);
  const base = {
    state: info.state, unacknowledgedBytes: unacked, unsentBytes: q.unsent, receiveQueueBytes: q.receiveQueue,
    retransmits: info.retransmits, lastHeardMs: info.lastAckRecv,
  };
  const make = (verdict: Verdict, evidence: string, durationMs: number | null): Diagnosis => ({
    verdict, evidence, durationMs, since: durationMs === null ? null : now - durationMs, ...base,
  });
  const rtoMs = info.rto / 1000;
  const heard = `peer last heard ${words(info.lastAckRecv)} ago`;
  const unread = q.receiveQueue > 0 ? `; ${q.receiveQueue} bytes received and not yet read by this application` : '';

  // The kernel keeps tcpi_retransmits of a connection it killed by retransmission timeout (ETIMEDOUT).
  if (info.state === 'CLOSE' && info.retransmits > 0) {
    return make('network', `the kernel gave up after ${info.retransmits} retransmission timeouts: the network or the peer's host is gone; state CLOSE`, null);
  }
  // ... and tcpi_probes of one it killed because keepalive probes went unanswered.
  if (info.state === 'CLOSE' && info.probes > 0) {
    return make('network', `the kernel gave up after ${info.probes} unanswered keepalive probes (${heard}): the network or the peer's host is gone; state CLOSE`, null);
  }
  if (!OPEN_STATES.has(info.state)) {
    const why = info.state === 'CLOSE_WAIT' ? 'the peer closed its side (FIN received)'
      : info.state === 'CLOSE' ? 'the connection is closed' : 'the connection is closing';
    return make('closed', `${why}; state ${info.state}`, null);
  }
  // Connecting: nothing was ever heard from the peer and no data sent, so tcp_info's ages count from
  // boot here; neither is evidence nor a duration. An unanswered SYN is the network's (or the host's).
  if (info.state === 'SYN_SENT') {
    const tries = info.retransmits > 0
      ? `${info.retransmits} retransmission${info.retransmits === 1 ? '' : 's'}` : 'not retransmitted yet';
    return make('network', `no answer to the SYN yet (${tries}, rto ${words(rtoMs)}): the peer's host or the path is `
      + `${info.retransmits > 0 ? 'gone' : 'slow or gone'}`, null);
  }
  if (unacked > 0 && (info.retransmits > 0 || info.lastAckRecv > Math.max(rtoMs, 200))) {
    const retrans = info.retransmits > 0
      ? `retransmitting (${info.retransmits} timeouts, rto ${words(rtoMs)})` : 'no acknowledgement yet';
    return make('network', `${unacked} bytes unacknowledged, ${retrans}; ${heard}: the network or the peer's host is gone`
      + unread, info.lastAckRecv);
  }
  if (info.probes > 0 && info.lastAckRecv > Math.max(2 * rtoMs, 1000)) {
    return make('network', `${info.probes} probes unanswered; ${heard}: the network or the peer's host is gone${unread}`, info.lastAckRecv);
  }
  if (info.sndWnd === 0 && info.state === 'ESTABLISHED') {
    const waiting = q.sendQueue > 0 ? `${q.sendQueue} bytes waiting to be sent` : 'nothing waiting yet';
    return make('peer-not-reading', `the peer's receive window is zero: its application is not reading (${waiting}); `
      + `its kernel answers (${heard}); network fine${unread}`, info.lastAckRecv);
  }
  // Our last data went out after the last data came in (tcp_info ages are in jiffies, so a reply in the
  // same tick as the request is indistinguishable: then only "nothing ever received" counts).
  const sentSomething = info.bytesAcked === undefined || info.bytesAcked > 1; // the SYN counts 1
  const awaitingReply = info.lastDataSent < info.lastDataRecv || info.bytesReceived === 0;
  if (q.sendQueue === 0 && sentSomething && awaitingReply && info.lastDataSent >= idleAfterMs) {
    return make('peer-app-silent', `peer application silent for ${words(info.lastDataSent)}; network fine (every byte `
      + `acknowledged by the peer's kernel ${words(info.lastAckRecv)} ago, nothing received since the last send)${unread}`,
    info.lastDataSent);
  }
  const quiet = Math.min(info.lastDataSent, info.lastDataRecv);
  if (q.sendQueue === 0 && quiet >= idleAfterMs) {
    return make('idle', `no data either way for ${words(quiet)}; ${heard}${unread}`, quiet);
  }
  const flowing = q.sendQueue > 0 ? `${q.sendQueue} bytes on their way, acknowledged ${words(info.lastAckRecv)} ago`
    : info.lastDataSent < info.lastDataRecv ? `reply pending for ${words(info.lastDataSent)}` : 'data flowing';
  const rttMs = info.rtt / 1000;
  return make('healthy', `${flowing}; rtt ${rttMs < 10 ? `${rttMs.toFixed(2)} ms` : words(rttMs)}${unread}`, null);
}
