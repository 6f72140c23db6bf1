/**
 * failFast: make a vanished peer an error within a fixed time, whatever the
 * connection is doing (sending, idle, paused, connecting, stuck behind a
 * closed window).
 *
 * Two layers:
 * - the kernel: TCP_USER_TIMEOUT plus a keepalive schedule derived from the
 *   same timeout (see {@link failFastOptions}). It covers the retransmission,
 *   keepalive, SYN and zero-window paths and works while the event loop is
 *   blocked;
 * - a watcher on the shared scheduler, for what the kernel does not report:
 *   a connection the kernel already closed while Node is not reading (Node
 *   emits nothing then), and data that sits unsent with nothing in flight.
 *   It also remembers what the last samples showed, to name the reason when
 *   the kernel kills the connection. It never reads SO_ERROR, which would
 *   steal the error from libuv.
 *
 * Either way the socket is destroyed with a {@link PeerGoneError} (code
 * 'ETIMEDOUT', a `reason`, `unacknowledgedBytes`); when Node itself reports
 * the kernel's ETIMEDOUT, that error is augmented with the same fields.
 */
import * as net from 'node:net';
import { codedError, DeathReason, invalidArgType, isPeerGoneError, markPeerGone, peerGoneError, PeerGoneError } from '../common/errors';
import { ownOption, validateInteger, validateObject } from '../common/validate';
import { fdOrNone, handleOf, requireTcpSocket } from '../kernel/fd';
import { checkedCookie, cookieOrNone } from '../kernel/identity';
import { setOptions, SocketOptions } from '../kernel/options';
import { TCP_INFO_OFFSETS } from '../kernel/tcpinfo';
import { failFastStep, FailFastReading, FailFastState, newFailFastState } from '../model/failfast-step';
import { failFastOptions, validateTimeout } from '../model/failfast-settings';
import { timeoutPath } from '../model/reason';
import { unacknowledgedOfSocket } from '../runtime/accounting';
import { readOne, Registration, Sample, scheduler as sharedScheduler, Scheduler } from '../runtime/scheduler';
import { stopOnAbort, validateSignal } from '../runtime/signal';
import { onDestroy } from '../runtime/socket-hooks';
import { publishDeath } from '../runtime/connections';
import { describeDeath } from '../runtime/death';
import { retainedUnacknowledged } from './delivery';
import { handOver } from '../runtime/process-hooks';

export {
  FAIL_FAST_MIN_TIMEOUT_MS, FAIL_FAST_MAX_TIMEOUT_MS, FAIL_FAST_PROBE_INTERVAL_MS, FAIL_FAST_RTO_ALLOWANCE_MS, failFastOptions,
} from '../model/failfast-settings';

/** Options of {@link failFast}. */
export interface FailFastOptions {
  /**
   * How long a silent peer may go unnoticed, ms. Whole seconds,
   * 2000..3600000 (keepalive times are whole seconds in the kernel; a value
   * that cannot be honoured exactly is refused, not rounded).
   */
  timeout: number;
  /**
   * How often the watcher samples the socket, ms (50..timeout/2). Default:
   * timeout / 10, clamped to 100..1000. Detection by the watcher lands within
   * `timeout` + one interval.
   */
  pollInterval?: number;
  /** Stops this failFast (as stop() does) when aborted. */
  signal?: AbortSignal;
}

/** Returned by {@link failFast}. */
export interface FailFastHandle {
  /** The timeout in force, ms. */
  readonly timeout: number;
  /** The kernel options failFast set (see {@link failFastOptions}). */
  readonly options: Readonly<SocketOptions>;
  /**
   * Stops the watcher and the error augmentation (idempotent). The kernel
   * options stay as they are; change them with setOptions() if needed.
   */
  stop(): void;
}

const OFF = {
  retransmits: TCP_INFO_OFFSETS.retransmits,
  probes: TCP_INFO_OFFSETS.probes,
  bytesAcked: TCP_INFO_OFFSETS.bytesAcked,
  sndWnd: TCP_INFO_OFFSETS.sndWnd,
};
/** How often a connecting socket is checked for a new attempt's fd, ms. */
const ATTEMPT_POLL_MS = 20;

/** A {@link FailFastReading} from a batch record. */
function readingOf(s: Sample, ended: boolean): FailFastReading {
  return {
    state: s.state, sendQueue: s.sendQueue, unsent: s.unsent, retransmits: s.u8(OFF.retransmits), probes: s.u8(OFF.probes),
    sndWnd: s.has(OFF.sndWnd, 4) ? s.u32(OFF.sndWnd) : undefined,
    bytesAcked: s.has(OFF.bytesAcked, 8) ? s.u64(OFF.bytesAcked) : -1,
    ended,
  };
}

/** What a {@link FailFastController} uses from outside (injectable: tests pass their own scheduler). */
export interface FailFastDeps {
  /** The poller; its binding and clock are the controller's. */
  scheduler: Scheduler;
}

const active = new WeakMap<net.Socket, FailFastController>();

/**
 * The controller behind {@link failFast}: kernel options on every connection
 * attempt's fd, a watcher keyed by the attempt's SO_COOKIE, and the error
 * augmentation in the socket's destroy hook.
 */
export class FailFastController implements FailFastHandle {
  readonly options: Readonly<SocketOptions>;
  private readonly state: FailFastState = newFailFastState();
  private cookie: bigint | null = null;
  private registration: Registration | null = null;
  /** Follows the connection attempts: a task on the one scheduler. */
  private attemptPoll: Registration | null = null;
  private stopped = false;
  private readonly unhook: Array<() => void> = [];

  constructor(private readonly socket: net.Socket, readonly timeout: number, private readonly pollInterval: number,
    private readonly deps: FailFastDeps = { scheduler: sharedScheduler }, signal?: AbortSignal) {
    this.options = Object.freeze({ ...failFastOptions(timeout) });
    active.get(socket)?.stop();
    active.set(socket, this);
    // Node destroys the socket with its error (read, write and connect paths all
    // call socket.destroy(err)) before emitting 'error': augmenting in _destroy
    // keeps the user's listeners, and the process-crashing default, untouched.
    this.unhook.push(onDestroy(socket, this.augment, 'augment'));
    socket.once('close', this.stop);
    this.unhook.push(() => socket.removeListener('close', this.stop));
    if (socket.connecting) {
      socket.once('connect', this.attach);
      this.unhook.push(() => socket.removeListener('connect', this.attach));
      // libuv creates the fd inside connect(), a tick (or a DNS lookup) after
      // net.connect() returns, and happy eyeballs (autoSelectFamily) makes one
      // per attempt: follow every attempt's fd until connected. TCP_USER_TIMEOUT
      // is checked at each SYN retransmission, so applying it after the SYN counts.
      this.attach();
      this.attemptPoll = this.deps.scheduler.addTask(ATTEMPT_POLL_MS, {
        run: () => {
          if (this.stopped || !socket.connecting) this.clearAttemptPoll();
          else this.attach();
        },
      });
    } else {
      this.attach();
    }
    this.unhook.push(stopOnAbort(signal, this.stop));
  }

  /** Stops the watcher and the error augmentation (idempotent); the kernel options stay. */
  readonly stop = (): void => {
    if (this.stopped) return;
    this.stopped = true;
    this.registration?.remove();
    this.registration = null;
    this.clearAttemptPoll();
    for (const u of this.unhook.splice(0)) u();
    if (active.get(this.socket) === this) active.delete(this.socket);
  };

  private clearAttemptPoll(): void {
    this.attemptPoll?.remove();
    this.attemptPoll = null;
  }

  /**
   * Sets the options on the socket's current fd and watches it, keyed by its
   * SO_COOKIE: a new connection attempt that got the same fd number is a new
   * socket, re-attached. False when there is no usable fd.
   */
  private readonly attach = (): boolean => {
    if (this.stopped) return false;
    const socket = this.socket;
    const f = fdOrNone(socket);
    if (f < 0) return false;
    const cookie = cookieOrNone(socket, f);
    if (cookie === null) return false;
    if (cookie === this.cookie && this.registration) return true;
    try {
      setOptions(f, this.options);
    } catch {
      return false; // e.g. EINVAL on a socket that is already shutting down
    }
    this.registration?.remove();
    this.cookie = cookie;
    this.registration = this.deps.scheduler.add(f, cookie, this.pollInterval, {
      onSample: this.onSample,
      valid: () => !this.stopped && !socket.destroyed && fdOrNone(socket) === f,
    });
    return true;
  };

  private readonly onSample = (s: Sample, now: number): void => {
    if (this.stopped) return;
    if (s.errno !== 0) {
      // ESTALE: the fd now belongs to another socket (a new connection attempt, or
      // reused behind Node's back); EBADF: closed. Follow the socket's current fd if
      // it has one of its own; else Node will report it if it can.
      this.registration?.remove();
      this.registration = null;
      this.cookie = null;
      if (!this.socket.connecting) this.attach();
      return;
    }
    const r = readingOf(s, this.socket.writableEnded);
    const verdict = failFastStep(this.state, r, now, this.timeout);
    if (verdict === null) return;
    if (verdict.kind === 'orderly') this.stop();
    else this.die(verdict.reason, r, verdict.detail, s);
  };

  private die(reason: DeathReason, r: FailFastReading, detail: string, s: Sample): void {
    const socket = this.socket;
    if (this.stopped || socket.destroyed) return;
    const err = describeDeath(peerGoneError(reason, unacknowledgedOfSocket(socket, r.bytesAcked, r.sendQueue), detail), s);
    const retained = retainedUnacknowledged(socket);
    if (Buffer.isBuffer(retained)) err.unacknowledged = retained;
    this.stop();
    socket.destroy(err);
    publishDeath(socket, err);
  }

  /** Augments an ETIMEDOUT that Node itself got from the kernel (read/write/connect). */
  private readonly augment = (err: Error | null): void => {
    if (this.stopped || !(err instanceof Error)) return;
    const e = err as Partial<PeerGoneError> & { code?: unknown; syscall?: unknown };
    if (e.code !== 'ETIMEDOUT' || isPeerGoneError(e)) return;
    const socket = this.socket;
    // In _destroy the socket is already marked destroyed but its fd is still open.
    const fd = (handleOf(socket) as { fd?: unknown } | null)?.fd;
    const f = typeof fd === 'number' ? fd : -1;
    const cookie = f >= 0 ? cookieOrNone(socket, f) : null;
    // One batch record; none (fd unusable or not this socket's) counts everything as unacknowledged.
    const s = cookie !== null ? readOne(f, cookie) : null;
    const r = s ? readingOf(s, socket.writableEnded) : null;
    let reason = timeoutPath(this.state.hint, r);
    if (reason === null && e.syscall === 'connect') reason = 'retransmit';
    const gone = describeDeath(markPeerGone(err, reason ?? 'kernel',
      unacknowledgedOfSocket(socket, r ? r.bytesAcked : -1, r ? r.sendQueue : -1)), s);
    const retained = retainedUnacknowledged(socket);
    if (Buffer.isBuffer(retained)) gone.unacknowledged = retained;
    publishDeath(socket, gone);
  };
}

/**
 * Detects a vanished peer on `socket` within about `options.timeout` ms,
 * whether it is sending, idle, paused (not reading), stuck behind a closed
 * window, or still connecting, and destroys the socket with a
 * {@link PeerGoneError}: `code` 'ETIMEDOUT', `reason` ('retransmit' |
 * 'keepalive' | 'zero-window' | 'unsent' | 'kernel'), `unacknowledgedBytes`
 * (written by the application, Node's buffer included, and not acknowledged
 * by the peer) and, in retain mode, `unacknowledged` (the bytes themselves).
 *
 * When, measured from the peer going silent: idle, at most `timeout` (exactly
 * `timeout` after the last packet from the peer); sending, `timeout` plus the
 * wait for the first retransmission beyond 200 ms (RTO and tail-loss probe;
 * +0.2 to +0.4 s on a LAN); connecting, about `timeout` - 200 ms; zero
 * window, about `timeout` after it closed. A socket Node is not reading is
 * reported by the watcher up to one `pollInterval` later. Kernel timer slack
 * (≤ 1/8 of a timer, ≤ 32 ms for 1 s timers) comes on top.
 *
 * Sets the options of {@link failFastOptions} now if the socket has a file
 * descriptor (connected, or connect() already issued) and again on 'connect'
 * (so they win over net.connect's `keepAlive`). Call it after connect();
 * calling it again replaces the previous failFast on that socket.
 *
 * A live peer that keeps its receive window closed for `timeout` is treated as
 * gone ('zero-window'), as TCP_USER_TIMEOUT does.
 *
 * @throws ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE for bad arguments;
 *   ERR_SOCKET_CLOSED for a destroyed socket; ERR_SOCKET_NOT_CONNECTED for a
 *   socket on which connect() was never called.
 */
export function failFast(socket: net.Socket, options: FailFastOptions): FailFastHandle {
  if (!(socket instanceof net.Socket)) throw invalidArgType('socket', 'an instance of net.Socket or tls.TLSSocket', socket);
  requireTcpSocket(socket);
  validateObject('options', options);
  const timeout = validateTimeout(ownOption(options, 'timeout'), 'options.timeout');
  let pollInterval = Math.min(1000, Math.max(100, Math.round(timeout / 10)));
  const p = ownOption(options, 'pollInterval');
  if (p !== undefined) pollInterval = validateInteger('options.pollInterval', p, 50, timeout / 2);
  const signal = validateSignal(ownOption(options, 'signal'));
  if (socket.destroyed) throw codedError('ERR_SOCKET_CLOSED', 'Socket is closed');
  const initialFd = fdOrNone(socket);
  if (initialFd < 0 && !socket.connecting) {
    throw codedError('ERR_SOCKET_NOT_CONNECTED', 'Socket is not connected: call failFast after socket.connect()');
  }
  // Applied before anything is hooked, so a kernel refusal leaves the socket untouched; never
  // on an fd that now belongs to another socket (ESTALE: closed behind Node's back and reused).
  // A protect()ed socket is taken over: protect() stops watching it and re-applying its options.
  handOver(socket);
  if (initialFd >= 0) {
    checkedCookie(socket, initialFd);
    setOptions(initialFd, failFastOptions(timeout));
  }
  return new FailFastController(socket, timeout, pollInterval, undefined, signal);
}
