/**
 * watch(socket): events on the socket itself when the kernel starts
 * retransmitting, when acknowledgements stop, when things recover, and when
 * the kernel has already closed the connection behind Node's back. All
 * watched sockets share one scheduler and one native batch read; the steady
 * state reads a handful of fields from the batch record and allocates
 * nothing (tcp_info is decoded only when an event is emitted). The socket's
 * SO_COOKIE is checked on every read, so a reused fd is never read as this
 * socket. SO_ERROR is never read (it would steal the error from libuv).
 */
import * as net from 'node:net';
import { acknowledgedBy, bytesWrittenBy } from '../model/accounting';
import { native } from '../kernel/binding';
import { predictGiveUp, GiveUpPrediction } from './deadlines';
import { codedError, DeathReason, invalidArgType } from '../common/errors';
import { fdOf, requireTcpSocket } from '../kernel/fd';
import { getOptions } from '../kernel/options';
import { Registration, Sample, scheduler, MIN_INTERVAL_MS } from '../runtime/scheduler';
import { socketCookie } from '../kernel/sockopt';
import { kernelSettings } from '../kernel/sysctl';
import { TCP_INFO_OFFSETS, TCP_STATE, TcpInfo } from '../kernel/tcpinfo';
import { INT32_MAX, validateDuration, validateObject } from '../common/validate';

/** Event names emitted on a watched socket. */
export const WATCH_EVENTS = Object.freeze({
  /** An RTO episode started, or the backoff grew: payload {@link RetransmitEvent}. */
  retransmit: 'tcp-vitals:retransmit',
  /** Data outstanding and no ACK for longer than `stallAfter`: payload {@link StallEvent}. */
  stall: 'tcp-vitals:stall',
  /** After a retransmit or stall event, ACKs flow again: payload {@link RecoveredEvent}. */
  recovered: 'tcp-vitals:recovered',
  /** The kernel closed the connection (tcp_info state CLOSE) while Node still holds the socket: payload {@link DeadEvent}. */
  dead: 'tcp-vitals:dead',
  /** Periodic reading, only with the `sample` option: payload {@link SampleEvent}. */
  sample: 'tcp-vitals:sample',
} as const);

/** Options of {@link watch}. */
export interface WatchOptions {
  /** How often the socket is read, ms (integer, 10..2147483647). Default 250. */
  interval?: number;
  /** Data outstanding without any ACK for this long, ms, is a stall (integer, 1..2147483647). Default 1000. */
  stallAfter?: number;
  /** `true`: a sample event every read; a number: one every that many ms (integer >= 10). Default off. */
  sample?: boolean | number;
}

/** Fields common to every event payload. */
export interface WatchEventBase {
  /** The full tcp_info decoded at the time of the event. */
  info: TcpInfo;
  /** SIOCOUTQ: bytes in the kernel's send queue (in flight + never sent), bytes. */
  sendQueue: number;
  /** SIOCOUTQNSD: bytes in the kernel never sent, bytes. */
  unsent: number;
  /** Bytes the application wrote that the peer has not acknowledged (Node's userland buffer included). */
  unacknowledgedBytes: number;
}

/** Payload of 'tcp-vitals:retransmit'. */
export interface RetransmitEvent extends WatchEventBase {
  /** Consecutive RTO expiries in this episode (tcpi_retransmits). */
  retransmits: number;
  /** RTO backoff shift (tcpi_backoff). */
  backoff: number;
  /** Current RTO including backoff, ms. */
  rtoMs: number;
  /** When the kernel will give up, ms from now (from the deadline model); null if it cannot tell. */
  giveUp: GiveUpPrediction | null;
}

/** Payload of 'tcp-vitals:stall'. */
export interface StallEvent extends WatchEventBase {
  /** Time since the peer last acknowledged anything (tcpi_last_ack_recv), ms. */
  sinceAckMs: number;
  /** The model's give-up prediction when an RTO episode is under way, else null. */
  giveUp: GiveUpPrediction | null;
}

/** Payload of 'tcp-vitals:recovered'. */
export interface RecoveredEvent extends WatchEventBase {
  /** How long the trouble lasted as seen by the watcher (first bad read to first good read), ms. */
  durationMs: number;
  /** Highest tcpi_retransmits seen during the trouble. */
  maxRetransmits: number;
}

/** Payload of 'tcp-vitals:dead'. */
export interface DeadEvent extends WatchEventBase {
  /**
   * What the last readings before death point to: 'retransmit' (an RTO
   * episode was under way), 'zero-window' (unsent data behind a closed
   * window), 'keepalive' (idle with keepalive probes out), else 'kernel'.
   */
  reason: DeathReason;
  /** The last give-up prediction made before death, if any. */
  lastPrediction: GiveUpPrediction | null;
}

/** Payload of 'tcp-vitals:sample'. */
export interface SampleEvent extends WatchEventBase {
  /** The model's give-up prediction when an RTO episode is under way, else null. */
  giveUp: GiveUpPrediction | null;
}

/** Returned by {@link watch}. */
export interface Watcher {
  /** Stops watching (idempotent). No event is emitted after it returns. */
  stop(): void;
  /** False once stopped, or once the socket is closed or destroyed. */
  readonly active: boolean;
  /**
   * Why the watcher stopped by itself on a failed read, else null: 'ESTALE'
   * when the fd had been reused by another socket (its cookie differed), so
   * nothing was read from it; 'errno' for any other read error.
   */
  readonly stoppedBy: 'ESTALE' | 'errno' | null;
}

const OFF = {
  retransmits: TCP_INFO_OFFSETS.retransmits,
  probes: TCP_INFO_OFFSETS.probes,
  backoff: TCP_INFO_OFFSETS.backoff,
  unacked: TCP_INFO_OFFSETS.unacked,
  lastAckRecv: TCP_INFO_OFFSETS.lastAckRecv,
  totalRtoTime: TCP_INFO_OFFSETS.totalRtoTime,
  sndWnd: TCP_INFO_OFFSETS.sndWnd,
};
const ESTALE = native.constants.ESTALE;

function validateOptions(options: unknown): { interval: number; stallAfter: number; sampleEvery: number } {
  validateObject('options', options);
  const o = options as WatchOptions;
  const int = (name: string, v: unknown, min: number, dflt: number): number =>
    validateDuration(`options.${name}`, v, min, INT32_MAX, dflt);
  const interval = int('interval', o.interval, MIN_INTERVAL_MS, 250);
  const stallAfter = int('stallAfter', o.stallAfter, 1, 1000);
  let sampleEvery = 0;
  if (o.sample === true) sampleEvery = interval;
  else if (o.sample !== undefined && o.sample !== false) {
    if (typeof o.sample !== 'number') throw invalidArgType('options.sample', 'of type boolean or number', o.sample);
    sampleEvery = int('sample', o.sample, MIN_INTERVAL_MS, 0);
  }
  return { interval, stallAfter, sampleEvery };
}

/**
 * Watches `socket` and emits {@link WATCH_EVENTS} on it. A socket still
 * connecting is watched from its 'connect'. Watching ends on 'close', on
 * stop(), and after 'tcp-vitals:dead'. Never keeps the process alive.
 * Throws ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE for bad arguments and
 * ERR_SOCKET_CLOSED for a destroyed socket.
 */
export function watch(socket: net.Socket, options: WatchOptions = {}): Watcher {
  if (!(socket instanceof net.Socket)) throw invalidArgType('socket', 'an instance of net.Socket or tls.TLSSocket', socket);
  requireTcpSocket(socket);
  const { interval, stallAfter, sampleEvery } = validateOptions(options);
  if (socket.destroyed) throw codedError('ERR_SOCKET_CLOSED', 'Socket is closed');

  let registration: Registration | null = null;
  let stopped = false;
  // Per-socket state: plain numbers, updated in place every read.
  let lastRetransmits = 0;
  let rtoTimeBaseline = -1; // tcpi_total_rto_time while no episode runs (6.7+), -1 unknown
  let troubleSince = -1; // scheduler time of the first bad read, -1 = healthy
  let maxRetransmits = 0;
  let stallReported = false;
  let lastSampleAt = -Infinity;
  let lastProbes = 0;
  let lastZeroWindowUnsent = false;
  let lastPrediction: GiveUpPrediction | null = null;
  let outstandingSince = -1; // scheduler time data was first seen outstanding, -1 = none
  let stoppedBy: 'ESTALE' | 'errno' | null = null;

  const pollEvery = sampleEvery > 0 ? Math.min(interval, sampleEvery) : interval;
  const onClose = () => stop();
  const onConnect = () => { try { start(); } catch { stop(); } };

  function stop(): void {
    if (stopped) return;
    stopped = true;
    registration?.remove();
    registration = null;
    socket.removeListener('close', onClose);
    socket.removeListener('connect', onConnect);
  }

  function unacknowledged(info: TcpInfo): number {
    return bytesWrittenBy(socket) - acknowledgedBy(socket, info.bytesAcked ?? 0);
  }

  function base(sample: Sample): WatchEventBase {
    const info = sample.decode();
    return { info, sendQueue: sample.sendQueue, unsent: sample.unsent, unacknowledgedBytes: unacknowledged(info) };
  }

  function prediction(info: TcpInfo): GiveUpPrediction | null {
    if (!(info.retransmits > 0)) return null;
    let opts: { userTimeout?: number; rtoMax?: number } = {};
    try {
      const o = getOptions(socket);
      opts = { userTimeout: o.userTimeout, rtoMax: o.rtoMax };
    } catch { /* socket going away: model with the namespace's settings */ }
    const elapsed = rtoTimeBaseline >= 0 && info.totalRtoTime !== undefined ? info.totalRtoTime - rtoTimeBaseline : undefined;
    return predictGiveUp(info, kernelSettings(), opts, elapsed);
  }

  function emit(event: string, payload: object): void {
    if (!stopped) socket.emit(event, payload);
  }

  function onSample(sample: Sample, now: number): void {
    if (stopped) return;
    const errno = sample.errno;
    if (errno !== 0) {
      // ESTALE: the fd now belongs to another socket; EBADF etc.: it is gone. Never an event.
      stoppedBy = errno === ESTALE ? 'ESTALE' : 'errno';
      stop();
      return;
    }
    if (sample.state === TCP_STATE.CLOSE) {
      const b = base(sample);
      const reason: DeathReason = lastRetransmits > 0 ? 'retransmit'
        : lastZeroWindowUnsent ? 'zero-window'
          : lastProbes > 0 ? 'keepalive' : 'kernel';
      emit(WATCH_EVENTS.dead, { ...b, reason, lastPrediction } satisfies DeadEvent);
      stop();
      return;
    }
    // Decoded at most once per tick, and only when an event is emitted.
    let decoded: WatchEventBase | null = null;
    const once = (): WatchEventBase => (decoded ??= base(sample));
    const retransmits = sample.u8(OFF.retransmits);
    const outstanding = sample.sendQueue - sample.unsent > 0 || sample.u32(OFF.unacked) > 0;
    const sinceAck = sample.u32(OFF.lastAckRecv);
    // An ACK received long ago does not make a fresh write a stall: count from when data became outstanding.
    if (!outstanding) outstandingSince = -1;
    else if (outstandingSince < 0) outstandingSince = now;
    const stalled = outstanding && Math.min(sinceAck, now - outstandingSince) > stallAfter;
    lastProbes = sample.u8(OFF.probes);
    lastZeroWindowUnsent = sample.unsent > 0 && sample.has(OFF.sndWnd, 4) && sample.u32(OFF.sndWnd) === 0;

    if (retransmits === 0 && sample.has(OFF.totalRtoTime, 4)) rtoTimeBaseline = sample.u32(OFF.totalRtoTime);
    if (retransmits > 0 || stalled) {
      if (troubleSince < 0) { troubleSince = now; maxRetransmits = 0; }
      if (retransmits > maxRetransmits) maxRetransmits = retransmits;
    }
    if (retransmits > lastRetransmits) {
      const b = once();
      lastPrediction = prediction(b.info);
      emit(WATCH_EVENTS.retransmit, {
        ...b, retransmits, backoff: b.info.backoff, rtoMs: b.info.rto / 1000, giveUp: lastPrediction,
      } satisfies RetransmitEvent);
    }
    lastRetransmits = retransmits;
    if (stalled && !stallReported) {
      stallReported = true;
      const b = once();
      emit(WATCH_EVENTS.stall, { ...b, sinceAckMs: sinceAck, giveUp: prediction(b.info) } satisfies StallEvent);
    }
    if (troubleSince >= 0 && retransmits === 0 && !stalled) {
      const durationMs = now - troubleSince;
      troubleSince = -1;
      stallReported = false;
      lastPrediction = null;
      emit(WATCH_EVENTS.recovered, { ...once(), durationMs, maxRetransmits } satisfies RecoveredEvent);
    }
    if (sampleEvery > 0 && now - lastSampleAt >= sampleEvery - pollEvery / 2) {
      lastSampleAt = now;
      const b = once();
      emit(WATCH_EVENTS.sample, { ...b, giveUp: prediction(b.info) } satisfies SampleEvent);
    }
  }

  /** Registers with the scheduler; throws (ERR_SOCKET_NOT_CONNECTED, a system error) if the socket has no usable fd. */
  function start(): void {
    if (stopped || registration) return;
    const fd = fdOf(socket, 'socket');
    const cookie = socketCookie(socket);
    registration = scheduler.add(fd, cookie, pollEvery, {
      onSample,
      valid: () => !stopped && !socket.destroyed,
    });
  }

  if (socket.connecting) socket.once('connect', onConnect);
  else start();
  socket.once('close', onClose);

  return {
    stop,
    get active() { return !stopped && !socket.destroyed; },
    get stoppedBy() { return stoppedBy; },
  };
}
