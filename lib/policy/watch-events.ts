/**
 * The contract of watch(): event names, payloads, options and the Watcher
 * handle, plus the declaration merge that types the `tcp-vitals:*` events on
 * net.Socket (a misspelt payload field fails to compile).
 */
import type { DeathReason } from '../common/errors';
import type { TcpInfo } from '../kernel/tcpinfo';
import type { TypedEmitter } from '../runtime/emitter';
import type { GiveUpPrediction } from '../model/give-up';

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
  /** Stops the watch when aborted (an already aborted signal gives a stopped watcher). */
  signal?: AbortSignal;
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

/** Events of a {@link Watcher}: the same payloads as on the socket, without the `tcp-vitals:` prefix. */
export interface WatchEvents {
  retransmit: RetransmitEvent;
  stall: StallEvent;
  recovered: RecoveredEvent;
  dead: DeadEvent;
  sample: SampleEvent;
}

/** Events watch() emits on the socket itself, by name. */
export interface SocketWatchEvents {
  'tcp-vitals:retransmit': RetransmitEvent;
  'tcp-vitals:stall': StallEvent;
  'tcp-vitals:recovered': RecoveredEvent;
  'tcp-vitals:dead': DeadEvent;
  'tcp-vitals:sample': SampleEvent;
}

/**
 * Returned by {@link watch}: an emitter of {@link WatchEvents}
 * (`events.on(watcher, 'dead')` works).
 */
export interface Watcher extends TypedEmitter<WatchEvents> {
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

declare module 'net' {
  interface Socket {
    on<K extends keyof SocketWatchEvents>(event: K, listener: (payload: SocketWatchEvents[K]) => void): this;
    once<K extends keyof SocketWatchEvents>(event: K, listener: (payload: SocketWatchEvents[K]) => void): this;
    off<K extends keyof SocketWatchEvents>(event: K, listener: (payload: SocketWatchEvents[K]) => void): this;
    addListener<K extends keyof SocketWatchEvents>(event: K, listener: (payload: SocketWatchEvents[K]) => void): this;
    removeListener<K extends keyof SocketWatchEvents>(event: K, listener: (payload: SocketWatchEvents[K]) => void): this;
    // net.Socket declares no off/removeListener overloads of its own: keep EventEmitter's for every other name.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    off(event: string | symbol, listener: (...args: any[]) => void): this;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
  }
}
