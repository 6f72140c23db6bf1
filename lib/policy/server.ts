/**
 * The accept queue of a listening socket: how many connections wait for
 * accept(), against the backlog, and the namespace's listen-drop counters.
 *
 * For a LISTEN socket the kernel's tcp_info reports `unacked` = connections
 * waiting in the accept queue and `sacked` = the backlog limit (listen()'s
 * argument clamped by net.core.somaxconn). The queue holds backlog + 1
 * entries; a SYN or final ACK arriving when it is full is dropped and counted
 * in TcpExt ListenOverflows and ListenDrops (/proc/net/netstat, per network
 * namespace). See docs/api-delivery.md (listenQueue, watchServer).
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { codedError, invalidArgType, invalidArgValue, outOfRange } from '../common/errors';
import { fdOf } from '../kernel/fd';
import { readTcpInfoRaw, TCP_INFO_OFFSETS, TCP_STATES } from '../kernel/tcpinfo';
import { validateObject, validateInteger } from '../common/validate';
import { emitCatching, ListenerErrors, TypedEmitter } from '../runtime/emitter';
import { Registration, scheduler } from '../runtime/scheduler';
import { stopOnAbort, validateSignal } from '../runtime/signal';

const LISTEN = TCP_STATES.indexOf('LISTEN');

/** Accept-queue reading of a listening socket. */
export interface ListenQueue {
  /** Connections established and waiting for accept() (count). */
  pending: number;
  /** The backlog limit the kernel applies (listen()'s backlog, clamped by net.core.somaxconn); the queue holds backlog + 1. */
  backlog: number;
}

/**
 * Reads the accept queue of a listening net.Server (or a listening socket's
 * fd) from tcp_info. Throws ERR_SERVER_NOT_RUNNING when the server is not
 * listening, ERR_INVALID_ARG_VALUE for an fd that is not a listening TCP
 * socket, and a system error for a failed getsockopt.
 */
export function listenQueue(server: net.Server | number): ListenQueue {
  if (!(server instanceof net.Server) && typeof server !== 'number') {
    throw invalidArgType('server', 'an instance of net.Server or a file descriptor number', server);
  }
  const fd = fdOf(server, 'server');
  const { buf, length } = readTcpInfoRaw(fd);
  if (length < TCP_INFO_OFFSETS.sacked + 4 || buf[0] !== LISTEN) {
    throw invalidArgValue('server', server, `is not a listening TCP socket (state ${TCP_STATES[buf[0]] ?? buf[0]})`);
  }
  return { pending: buf.readUInt32LE(TCP_INFO_OFFSETS.unacked), backlog: buf.readUInt32LE(TCP_INFO_OFFSETS.sacked) };
}

/** TcpExt listen-drop counters of the current network namespace. */
export interface ListenCounters {
  /** SYNs or final ACKs dropped because an accept queue was full (count). */
  listenOverflows: number;
  /** Every drop at a listener, overflows included (count). */
  listenDrops: number;
}

/**
 * Reads TcpExt ListenOverflows and ListenDrops from /proc/net/netstat (the
 * calling thread's network namespace). Throws a system error if the file
 * cannot be read, ERR_INVALID_STATE if it lacks the counters.
 */
export function listenCounters(): ListenCounters {
  const text = readFileSync('/proc/net/netstat', 'latin1');
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  if (lines.length >= 2) {
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/);
    const o = names.indexOf('ListenOverflows');
    const d = names.indexOf('ListenDrops');
    if (o > 0 && d > 0) return { listenOverflows: Number(values[o]), listenDrops: Number(values[d]) };
  }
  throw codedError('ERR_INVALID_STATE', 'Invalid state: /proc/net/netstat has no TcpExt ListenOverflows/ListenDrops');
}

/** Event names emitted on a watched server. */
export const SERVER_EVENTS = {
  /** The accept queue reached `threshold` × backlog (payload {@link QueueEvent}); emitted on entering that state. */
  queueHigh: 'tcp-vitals:queue-high',
  /** The accept queue fell back below the threshold (payload {@link QueueEvent}). */
  queueNormal: 'tcp-vitals:queue-normal',
  /** ListenOverflows or ListenDrops grew since the last tick (payload {@link OverflowEvent}). */
  overflow: 'tcp-vitals:overflow',
} as const;

/** Payload of 'tcp-vitals:queue-high' and 'tcp-vitals:queue-normal'. */
export interface QueueEvent extends ListenQueue {
  /** The watch's threshold (fraction of backlog). */
  threshold: number;
}

/** Payload of 'tcp-vitals:overflow'. Counters are namespace-wide: with several listeners they cannot be attributed. */
export interface OverflowEvent {
  /** Growth of ListenOverflows since the previous tick (count). */
  listenOverflows: number;
  /** Growth of ListenDrops since the previous tick (count). */
  listenDrops: number;
  /** Current totals of the namespace. */
  totals: ListenCounters;
  /** This server's accept queue at the same tick (absent if it could not be read). */
  queue?: ListenQueue;
}

/** Options of {@link watchServer}. */
export interface WatchServerOptions {
  /** Fraction of the backlog at which 'tcp-vitals:queue-high' fires, in (0, 1.5]; default 0.8. */
  threshold?: number;
  /** Polling interval, ms (default 1000, at least 10). */
  interval?: number;
  /** Stops the watch when aborted (an already aborted signal gives a stopped watch). */
  signal?: AbortSignal;
}

/** Events of a {@link ServerWatch} (the same payloads are emitted on the server as {@link SERVER_EVENTS}). */
export interface ServerWatchEvents {
  'queue-high': QueueEvent;
  'queue-normal': QueueEvent;
  overflow: OverflowEvent;
}

/** Handle returned by {@link watchServer}: an emitter of {@link ServerWatchEvents}. */
export interface ServerWatch extends TypedEmitter<ServerWatchEvents> {
  /** Stops watching (idempotent; also happens on the server's 'close'). */
  stop(): void;
}

/** One /proc/net/netstat read per scheduler tick, shared by every server due in it. */
let countersTick = -1;
let tickCounters: ListenCounters | null = null;

function safeCounters(): ListenCounters | null {
  try { return listenCounters(); } catch { return null; }
}

function countersOfTick(): ListenCounters | null {
  if (countersTick !== scheduler.ticks) {
    countersTick = scheduler.ticks;
    tickCounters = safeCounters();
  }
  return tickCounters;
}

/** The watch of one server: a task on the shared scheduler. */
class ServerWatcher extends EventEmitter {
  private high = false;
  /** Counters at this watch's previous tick. */
  private baseline: ListenCounters | null = null;
  private registration: Registration | null = null;
  private stopped = false;
  private readonly unlistenSignal: () => void;
  private readonly errors = new ListenerErrors();

  constructor(private readonly server: net.Server, private readonly threshold: number,
    private readonly interval: number, signal: AbortSignal | undefined) {
    super();
    server.once('close', this.stop);
    if (server.listening) this.start(); else server.once('listening', this.start);
    this.unlistenSignal = stopOnAbort(signal, this.stop);
  }

  readonly stop = (): void => {
    if (this.stopped) return;
    this.stopped = true;
    this.registration?.remove();
    this.registration = null;
    this.server.off('close', this.stop);
    this.server.off('listening', this.start);
    this.unlistenSignal?.();
  };

  private readonly start = (): void => {
    if (this.stopped) return;
    this.baseline = safeCounters();
    this.registration = scheduler.addTask(this.interval, { run: () => this.tick(countersOfTick()) });
  };

  private emitBoth(name: keyof typeof SERVER_EVENTS, event: string, payload: object): void {
    this.errors.add(emitCatching(this.server, SERVER_EVENTS[name], payload));
    if (!this.stopped) this.errors.add(emitCatching(this, event, payload));
  }

  /** One tick: every event goes out, then the first listener error goes to the scheduler (which reports it). */
  private tick(counters: ListenCounters | null): void {
    try {
      this.check(counters);
    } finally {
      this.errors.rethrow();
    }
  }

  private check(counters: ListenCounters | null): void {
    let queue: ListenQueue | undefined;
    try { queue = listenQueue(this.server); } catch { /* closing */ }
    if (queue) {
      const high = queue.pending >= this.threshold * queue.backlog;
      if (high !== this.high) {
        this.high = high;
        const payload = { ...queue, threshold: this.threshold } satisfies QueueEvent;
        if (high) this.emitBoth('queueHigh', 'queue-high', payload);
        else this.emitBoth('queueNormal', 'queue-normal', payload);
      }
    }
    if (!counters || this.stopped) return;
    const base = this.baseline;
    this.baseline = counters;
    if (!base) return;
    const listenOverflows = counters.listenOverflows - base.listenOverflows;
    const listenDrops = counters.listenDrops - base.listenDrops;
    if (listenOverflows > 0 || listenDrops > 0) {
      const event: OverflowEvent = { listenOverflows, listenDrops, totals: counters };
      if (queue) event.queue = queue;
      this.emitBoth('overflow', 'overflow', event);
    }
  }
}

/**
 * Watches a listening server's accept queue and the namespace's listen-drop
 * counters, emitting on the server (see {@link SERVER_EVENTS}) and on the
 * returned watch ({@link ServerWatchEvents}):
 * 'tcp-vitals:queue-high' when pending ≥ threshold × backlog,
 * 'tcp-vitals:queue-normal' when it falls back, and 'tcp-vitals:overflow'
 * when TcpExt ListenOverflows/ListenDrops grew since this watch's previous
 * tick (deltas in the payload; the counters are namespace-wide; the first
 * baseline is read when the watch starts).
 *
 * Every watched server is a task on the shared scheduler (one unref'd timer
 * for every poller), with one /proc/net/netstat read per tick; the watch never
 * keeps the process alive and stops on the server's 'close' or `signal`. A
 * listener that throws never stops the watch of any server. A server not yet
 * listening is watched from its 'listening' event.
 */
export function watchServer(server: net.Server, options: WatchServerOptions = {}): ServerWatch {
  if (!(server instanceof net.Server)) throw invalidArgType('server', 'an instance of net.Server', server);
  validateObject('options', options);
  const threshold = options.threshold ?? 0.8;
  if (typeof threshold !== 'number') throw invalidArgType('options.threshold', 'of type number', threshold);
  if (!(threshold > 0 && threshold <= 1.5)) throw outOfRange('options.threshold', '> 0 and <= 1.5', threshold);
  const interval = options.interval === undefined ? 1000 : validateInteger('options.interval', options.interval, 10, 2 ** 31 - 1);
  const signal = validateSignal(options.signal);
  return new ServerWatcher(server, threshold, interval, signal) as unknown as ServerWatch;
}

/** Events watchServer() emits on the server itself, by name. */
export interface ServerSocketEvents {
  'tcp-vitals:queue-high': QueueEvent;
  'tcp-vitals:queue-normal': QueueEvent;
  'tcp-vitals:overflow': OverflowEvent;
}

declare module 'net' {
  interface Server {
    on<K extends keyof ServerSocketEvents>(event: K, listener: (payload: ServerSocketEvents[K]) => void): this;
    once<K extends keyof ServerSocketEvents>(event: K, listener: (payload: ServerSocketEvents[K]) => void): this;
    off<K extends keyof ServerSocketEvents>(event: K, listener: (payload: ServerSocketEvents[K]) => void): this;
    // net.Server declares no off overloads of its own: keep EventEmitter's for every other name.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    off(event: string | symbol, listener: (...args: any[]) => void): this;
  }
}
