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
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { codedError, invalidArgType, invalidArgValue, outOfRange } from '../common/errors';
import { fdOf } from '../kernel/fd';
import { readTcpInfoRaw, TCP_INFO_OFFSETS, TCP_STATES } from '../kernel/tcpinfo';
import { validateObject, validateInteger } from '../common/validate';

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
}

/** Handle returned by {@link watchServer}. */
export interface ServerWatch {
  /** Stops watching (idempotent; also happens on the server's 'close'). */
  stop(): void;
}

interface Watched {
  server: net.Server;
  threshold: number;
  interval: number;
  nextDue: number;
  high: boolean;
  /** Counters at this watch's previous tick. */
  baseline: ListenCounters | null;
  stop(): void;
}

const watched = new Set<Watched>();
let timer: NodeJS.Timeout | null = null;

function arm(): void {
  if (timer) clearTimeout(timer);
  timer = null;
  if (watched.size === 0) return;
  let next = Infinity;
  for (const w of watched) next = Math.min(next, w.nextDue);
  timer = setTimeout(tick, Math.max(0, next - performance.now()));
  timer.unref();
}

function safeCounters(): ListenCounters | null {
  try { return listenCounters(); } catch { return null; }
}

/** One pass: one /proc/net/netstat read shared by every due server. */
function tick(): void {
  timer = null;
  const now = performance.now();
  let counters: ListenCounters | null | undefined;
  for (const w of [...watched]) {
    if (w.nextDue > now + 1) continue;
    if (counters === undefined) counters = safeCounters();
    w.nextDue = now + w.interval;
    check(w, counters);
  }
  arm();
}

function check(w: Watched, counters: ListenCounters | null): void {
  let queue: ListenQueue | undefined;
  try { queue = listenQueue(w.server); } catch { /* closing */ }
  if (queue) {
    const high = queue.pending >= w.threshold * queue.backlog;
    if (high !== w.high) {
      w.high = high;
      w.server.emit(high ? SERVER_EVENTS.queueHigh : SERVER_EVENTS.queueNormal, { ...queue, threshold: w.threshold } satisfies QueueEvent);
    }
  }
  if (!counters) return;
  const base = w.baseline;
  w.baseline = counters;
  if (!base) return;
  const listenOverflows = counters.listenOverflows - base.listenOverflows;
  const listenDrops = counters.listenDrops - base.listenDrops;
  if (listenOverflows > 0 || listenDrops > 0) {
    const event: OverflowEvent = { listenOverflows, listenDrops, totals: counters };
    if (queue) event.queue = queue;
    w.server.emit(SERVER_EVENTS.overflow, event);
  }
}

/**
 * Watches a listening server's accept queue and the namespace's listen-drop
 * counters, emitting on the server (see {@link SERVER_EVENTS}):
 * 'tcp-vitals:queue-high' when pending ≥ threshold × backlog,
 * 'tcp-vitals:queue-normal' when it falls back, and 'tcp-vitals:overflow'
 * when TcpExt ListenOverflows/ListenDrops grew since this watch's previous
 * tick (deltas in the payload; the counters are namespace-wide; the first
 * baseline is read when the watch starts).
 *
 * All watched servers share one unref'd timer and one /proc/net/netstat read
 * per tick; the watch never keeps the process alive and stops on the server's
 * 'close'. A server not yet listening is watched from its 'listening' event.
 */
export function watchServer(server: net.Server, options: WatchServerOptions = {}): ServerWatch {
  if (!(server instanceof net.Server)) throw invalidArgType('server', 'an instance of net.Server', server);
  validateObject('options', options);
  const threshold = options.threshold ?? 0.8;
  if (typeof threshold !== 'number') throw invalidArgType('options.threshold', 'of type number', threshold);
  if (!(threshold > 0 && threshold <= 1.5)) throw outOfRange('options.threshold', '> 0 and <= 1.5', threshold);
  const interval = options.interval === undefined ? 1000 : validateInteger('options.interval', options.interval, 10, 2 ** 31 - 1);

  let stopped = false;
  const entry: Watched = {
    server, threshold, interval, nextDue: performance.now() + interval, high: false, baseline: null,
    stop: () => {
      if (stopped) return;
      stopped = true;
      watched.delete(entry);
      server.off('close', entry.stop);
      server.off('listening', start);
      arm();
    },
  };
  function start(): void {
    if (stopped) return;
    entry.baseline = safeCounters();
    entry.nextDue = performance.now() + interval;
    watched.add(entry);
    arm();
  }
  server.once('close', entry.stop);
  if (server.listening) start(); else server.once('listening', start);
  return { stop: entry.stop };
}
