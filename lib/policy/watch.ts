/**
 * watch(socket): events on the socket itself (and on the returned watcher)
 * when the kernel starts retransmitting, when acknowledgements stop, when
 * things recover, and when the kernel has already closed the connection
 * behind Node's back. All watched sockets share one scheduler and one native
 * batch read; each socket's state is one slot of a packed Float64Array and
 * the decisions are the pure {@link watchStep}: the steady state reads a
 * handful of fields and allocates nothing (tcp_info is decoded only when an
 * event is emitted). The socket's SO_COOKIE is checked on every read, so a
 * reused fd is never read as this socket. SO_ERROR is never read (it would
 * steal the error from libuv).
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { codedError, ERRNO, invalidArgType } from '../common/errors';
import { INT32_MAX, ownOption, validateDuration, validateObject } from '../common/validate';
import { fdOf, requireTcpSocket } from '../kernel/fd';
import { checkedCookie } from '../kernel/identity';
import { getOptions } from '../kernel/options';
import { kernelSettings } from '../kernel/sysctl';
import { TCP_INFO_OFFSETS, TcpInfo } from '../kernel/tcpinfo';
import {
  episodeRtoTime, resetWatchState, WATCH_ACTION, WATCH_STATE, WATCH_STATE_SIZE, watchDeathReason, watchStep,
  WatchReading, WatchStepSettings,
} from '../model/watch-step';
import { unacknowledgedOfSocket } from '../runtime/accounting';
import { reasonReadingOf } from '../runtime/death';
import { emitCatching, ListenerErrors } from '../runtime/emitter';
import { MIN_INTERVAL_MS, Registration, Sample, scheduler as sharedScheduler, Scheduler } from '../runtime/scheduler';
import { stopOnAbort, validateSignal } from '../runtime/signal';
import { internals, onDestroy } from '../runtime/socket-hooks';
import { StatePool } from '../runtime/state-pool';
import { predictGiveUp, GiveUpPrediction } from '../model/give-up';
import {
  DeadEvent, RecoveredEvent, RetransmitEvent, SampleEvent, StallEvent, WATCH_EVENTS, WatchEventBase, WatchEvents,
  Watcher, WatchOptions,
} from './watch-events';

export * from './watch-events';

const OFF = {
  unacked: TCP_INFO_OFFSETS.unacked,
  lastAckRecv: TCP_INFO_OFFSETS.lastAckRecv,
  totalRtoTime: TCP_INFO_OFFSETS.totalRtoTime,
};
const ESTALE = ERRNO.ESTALE;

/** Every watched socket's state, side by side. */
const states = new StatePool(WATCH_STATE_SIZE);
/** The reading being stepped (one at a time: the scheduler calls subscribers one after another). */
const reading: WatchReading = {
  state: 0, sendQueue: 0, unsent: 0, retransmits: 0, probes: 0, unacked: 0, lastAckRecv: 0, totalRtoTime: -1, sndWnd: undefined,
};

/** Fills {@link reading} from a batch record. */
function readInto(r: WatchReading, s: Sample): WatchReading {
  reasonReadingOf(s, r);
  r.unacked = s.u32(OFF.unacked);
  r.lastAckRecv = s.u32(OFF.lastAckRecv);
  r.totalRtoTime = s.has(OFF.totalRtoTime, 4) ? s.u32(OFF.totalRtoTime) : -1;
  return r;
}

function validateOptions(options: unknown): WatchStepSettings & { interval: number; signal?: AbortSignal } {
  const o = validateObject('options', options);
  const int = (name: string, min: number, dflt: number): number =>
    validateDuration(`options.${name}`, ownOption(o, name), min, INT32_MAX, dflt);
  const interval = int('interval', MIN_INTERVAL_MS, 250);
  const stallAfter = int('stallAfter', 1, 1000);
  let sampleEvery = 0;
  const sample = ownOption(o, 'sample');
  if (sample === true) sampleEvery = interval;
  else if (sample !== undefined && sample !== false) {
    if (typeof sample !== 'number') throw invalidArgType('options.sample', 'of type boolean or number', sample);
    sampleEvery = int('sample', MIN_INTERVAL_MS, 0);
  }
  const signal = validateSignal(ownOption(o, 'signal'));
  return { interval, stallAfter, sampleEvery, pollEvery: sampleEvery > 0 ? Math.min(interval, sampleEvery) : interval, signal };
}

/** What a {@link SocketWatcher} uses from outside (injectable: tests pass their own scheduler). */
export interface WatchDeps {
  /** The poller; its binding and clock are the watcher's. */
  scheduler: Scheduler;
}

/** The controller behind {@link watch}: one per watched socket. */
export class SocketWatcher extends EventEmitter {
  private readonly slot: number;
  private registration: Registration | null = null;
  private stopped = false;
  private released = false;
  private lastStoppedBy: 'ESTALE' | 'errno' | null = null;
  private lastPrediction: GiveUpPrediction | null = null;
  private readonly unhook: Array<() => void> = [];
  private readonly errors = new ListenerErrors();

  constructor(private readonly socket: net.Socket, private readonly cfg: WatchStepSettings,
    private readonly deps: WatchDeps = { scheduler: sharedScheduler }, signal?: AbortSignal) {
    super();
    this.slot = states.alloc();
    resetWatchState(states.data, this.slot);
    // Destroyed (by anyone, for any reason): stop before the fd is closed, so nothing is read or emitted after.
    this.unhook.push(onDestroy(socket, this.stop));
    socket.once('close', this.stop);
    this.unhook.push(() => socket.removeListener('close', this.stop));
    if (socket.connecting) {
      socket.once('connect', this.onConnect);
      this.unhook.push(() => socket.removeListener('connect', this.onConnect));
    } else {
      try { this.start(); } catch (err) { this.stop(); throw err; }
    }
    this.unhook.push(stopOnAbort(signal, this.stop));
  }

  /** False once stopped, or once the socket is closed or destroyed. */
  get active(): boolean { return !this.stopped && !this.socket.destroyed; }
  /** Why the watcher stopped by itself on a failed read, else null. */
  get stoppedBy(): 'ESTALE' | 'errno' | null { return this.lastStoppedBy; }

  /** Stops watching (idempotent). No event is emitted after it returns. */
  readonly stop = (): void => {
    if (this.stopped) return;
    this.stopped = true;
    this.registration?.remove();
    this.registration = null;
    for (const u of this.unhook.splice(0)) u();
    if (!this.released) { this.released = true; states.release(this.slot); }
  };

  private readonly onConnect = (): void => {
    try { this.start(); } catch { this.stop(); }
  };

  /** Registers with the scheduler; throws (ERR_SOCKET_NOT_CONNECTED, a system error) if the socket has no usable fd. */
  private start(): void {
    if (this.stopped || this.registration) return;
    const fd = fdOf(this.socket, 'socket');
    const cookie = checkedCookie(this.socket, fd);
    const socket = this.socket;
    this.registration = this.deps.scheduler.add(fd, cookie, this.cfg.pollEvery, {
      onSample: this.onSample,
      // Without a destroy hook, check before each read that Node has not closed the fd.
      valid: internals.destroy ? undefined : () => !this.stopped && !socket.destroyed,
    });
  }

  private readonly onSample = (sample: Sample, now: number): void => {
    if (this.stopped) return;
    const errno = sample.errno;
    if (errno !== 0) {
      // ESTALE: the fd now belongs to another socket; EBADF etc.: it is gone. Never an event.
      this.lastStoppedBy = errno === ESTALE ? 'ESTALE' : 'errno';
      this.stop();
      return;
    }
    const r = readInto(reading, sample);
    const actions = watchStep(states.data, this.slot, r, now, this.cfg);
    if (actions !== 0) this.act(actions, sample, r);
  };

  private act(actions: number, sample: Sample, r: WatchReading): void {
    try {
      this.emitActions(actions, sample, r);
    } finally {
      this.errors.rethrow(); // to the scheduler, which reports it; every event of this reading went out first
    }
  }

  private emitActions(actions: number, sample: Sample, r: WatchReading): void {
    const o = this.slot;
    const b = this.base(sample);
    if (actions & WATCH_ACTION.dead) {
      const reason = watchDeathReason(states.data, o, r);
      const lastPrediction = this.lastPrediction;
      this.stop(); // first: a listener that throws cannot make 'dead' come again
      this.emitEvent('dead', { ...b, reason, lastPrediction } satisfies DeadEvent, true);
      return;
    }
    if (actions & WATCH_ACTION.retransmit) {
      this.lastPrediction = this.prediction(b.info, o);
      this.emitEvent('retransmit', {
        ...b, retransmits: r.retransmits, backoff: b.info.backoff, rtoMs: b.info.rto / 1000, giveUp: this.lastPrediction,
      } satisfies RetransmitEvent);
    }
    if (actions & WATCH_ACTION.stall) {
      this.emitEvent('stall', { ...b, sinceAckMs: r.lastAckRecv, giveUp: this.prediction(b.info, o) } satisfies StallEvent);
    }
    if (actions & WATCH_ACTION.recovered) {
      this.lastPrediction = null;
      const st = states.data;
      this.emitEvent('recovered', {
        ...b, durationMs: st[o + WATCH_STATE.troubleMs], maxRetransmits: st[o + WATCH_STATE.maxRetransmits],
      } satisfies RecoveredEvent);
    }
    if (actions & WATCH_ACTION.sample) {
      this.emitEvent('sample', { ...b, giveUp: this.prediction(b.info, o) } satisfies SampleEvent);
    }
  }

  /** Emits on the socket, then on the watcher; never after stop() (`final`: the 'dead' that ends the watch) nor on a destroyed socket. */
  private emitEvent<K extends keyof WatchEvents>(event: K, payload: WatchEvents[K], final = false): void {
    if ((this.stopped && !final) || this.socket.destroyed) return;
    this.errors.add(emitCatching(this.socket, WATCH_EVENTS[event], payload));
    if ((this.stopped && !final) || this.socket.destroyed) return;
    this.errors.add(emitCatching(this, event, payload));
  }

  private base(sample: Sample): WatchEventBase {
    const info = sample.decode();
    const unacknowledgedBytes = unacknowledgedOfSocket(this.socket, info.bytesAcked ?? -1, sample.sendQueue);
    return { info, sendQueue: sample.sendQueue, unsent: sample.unsent, unacknowledgedBytes };
  }

  private prediction(info: TcpInfo, o: number): GiveUpPrediction | null {
    if (!(info.retransmits > 0)) return null;
    let opts: { userTimeout?: number; rtoMax?: number } = {};
    try {
      const k = getOptions(this.socket);
      opts = { userTimeout: k.userTimeout, rtoMax: k.rtoMax };
    } catch { /* socket going away: model with the namespace's settings */ }
    return predictGiveUp(info, kernelSettings(), opts, episodeRtoTime(states.data, o, info.totalRtoTime));
  }
}

/**
 * Watches `socket` and emits {@link WATCH_EVENTS} on it, and the same events
 * without the prefix on the returned {@link Watcher}. A socket still
 * connecting is watched from its 'connect'. Watching ends on 'close' (and
 * destroy), on stop(), on `signal`, and after 'tcp-vitals:dead'. Never keeps
 * the process alive. Throws ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE for bad
 * arguments and ERR_SOCKET_CLOSED for a destroyed socket.
 */
export function watch(socket: net.Socket, options: WatchOptions = {}): Watcher {
  if (!(socket instanceof net.Socket)) throw invalidArgType('socket', 'an instance of net.Socket or tls.TLSSocket', socket);
  requireTcpSocket(socket);
  const { signal, ...cfg } = validateOptions(options);
  if (socket.destroyed) throw codedError('ERR_SOCKET_CLOSED', 'Socket is closed');
  return new SocketWatcher(socket, cfg, undefined, signal) as unknown as Watcher;
}
