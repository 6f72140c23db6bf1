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
import * as tls from 'node:tls';
import { native } from '../kernel/binding';
import { acknowledgedBy, bytesWrittenBy } from '../model/accounting';
import { retainedUnacknowledged } from './delivery';
import { codedError, DeathReason, invalidArgType, outOfRange, peerGoneError, PeerGoneError } from '../common/errors';
import { fdOrNone } from '../kernel/fd';
import { setOptions, SocketOptions } from '../kernel/options';
import { readOne, Registration, Sample, scheduler } from '../runtime/scheduler';
import { TCP_INFO_OFFSETS, TCP_STATE } from '../kernel/tcpinfo';
import { failFastOptions, validateTimeout } from '../model/failfast-settings';
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
  lastAckRecv: TCP_INFO_OFFSETS.lastAckRecv,
  bytesAcked: TCP_INFO_OFFSETS.bytesAcked,
  sndWnd: TCP_INFO_OFFSETS.sndWnd,
};

/** What the last samples said about the connection's health. */
interface Observation {
  /** performance.now() ms when unsent data with nothing in flight was first seen; -1 if none. */
  unsentSince: number;
  /** bytesAcked at the last sample. */
  bytesAcked: number;
  /** The path the last unhealthy sample pointed at; null while healthy. */
  hint: DeathReason | null;
}

/** Classifies one tcp_info + queue reading; null when it shows nothing wrong. */
function pathOf(sendQueue: number, unsent: number, retransmits: number, probes: number,
  sndWnd: number | undefined, state: number): DeathReason | null {
  if (state === TCP_STATE.SYN_SENT) return 'retransmit';
  if (sendQueue - unsent > 0 && retransmits > 0) return 'retransmit';
  if (unsent > 0 && sendQueue === unsent && (sndWnd === 0 || probes > 0)) return 'zero-window';
  if (retransmits > 0) return 'retransmit';
  if (probes > 0 && sendQueue === 0) return 'keepalive';
  return null;
}

const active = new WeakMap<net.Socket, FailFastHandle>();

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
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const timeout = validateTimeout(options.timeout, 'options.timeout');
  const kernelOptions = failFastOptions(timeout);
  let pollInterval = Math.min(1000, Math.max(100, Math.round(timeout / 10)));
  if (options.pollInterval !== undefined) {
    const p = options.pollInterval;
    if (typeof p !== 'number') throw invalidArgType('options.pollInterval', 'of type number', p);
    if (!Number.isInteger(p) || p < 50 || p > timeout / 2) {
      throw outOfRange('options.pollInterval', `an integer >= 50 and <= ${timeout / 2}`, p);
    }
    pollInterval = p;
  }
  if (socket.destroyed) throw codedError('ERR_SOCKET_CLOSED', 'Socket is closed');
  const initialFd = fdOrNone(socket);
  if (initialFd < 0 && !socket.connecting) {
    throw codedError('ERR_SOCKET_NOT_CONNECTED', 'Socket is not connected: call failFast after socket.connect()');
  }
  // A protect()ed socket is taken over: protect() stops watching it and re-applying its options.
  handOver(socket);
  // Applied before anything is hooked, so a kernel refusal leaves the socket untouched.
  if (initialFd >= 0) setOptions(initialFd, kernelOptions);
  active.get(socket)?.stop();

  const isTls = socket instanceof tls.TLSSocket;
  const seen: Observation = { unsentSince: -1, bytesAcked: -1, hint: null };
  let fd = -1;
  let registration: Registration | null = null;
  let fdPoll: NodeJS.Timeout | null = null;
  let stopped = false;

  /** Bytes written and not acknowledged, from a tcp_info bytesAcked and SIOCOUTQ (both read before destroy). */
  const unacknowledgedBytes = (bytesAcked: number, sendQueue: number): number => {
    const written = bytesWrittenBy(socket);
    if (!isTls) return written - acknowledgedBy(socket, bytesAcked);
    // TLS: the kernel counts ciphertext (handshake and record overhead
    // included), the application plaintext. Every unacknowledged plaintext
    // byte is either still in userland or inside a ciphertext byte in the
    // kernel queue, so this is an upper bound that never claims delivery.
    return Math.min(written, Math.max(0, sendQueue) + socket.writableLength);
  };

  const die = (reason: DeathReason, bytesAcked: number, sendQueue: number, detail: string): void => {
    if (stopped || socket.destroyed) return;
    const err = peerGoneError(reason, unacknowledgedBytes(bytesAcked, sendQueue), detail);
    const retained = retainedUnacknowledged(socket);
    if (Buffer.isBuffer(retained)) err.unacknowledged = retained;
    handle.stop();
    socket.destroy(err);
  };

  const onSample = (s: Sample, now: number): void => {
    if (stopped) return;
    if (s.errno !== 0) {
      // ESTALE: the fd now belongs to another socket; EBADF: closed. Either way
      // this socket is gone from under us; Node will report it if it can.
      registration?.remove();
      registration = null;
      return;
    }
    const sendQueue = s.sendQueue, unsent = s.unsent, state = s.state;
    const retransmits = s.u8(OFF.retransmits), probes = s.u8(OFF.probes);
    const sndWnd = s.has(OFF.sndWnd, 4) ? s.u32(OFF.sndWnd) : undefined;
    const bytesAcked = s.u64(OFF.bytesAcked);

    if (state === TCP_STATE.CLOSE) {
      onKernelClosed(sendQueue, unsent, retransmits, probes, sndWnd, bytesAcked);
      return;
    }
    const progressed = bytesAcked !== seen.bytesAcked;
    seen.bytesAcked = bytesAcked;
    seen.hint = pathOf(sendQueue, unsent, retransmits, probes, sndWnd, state);

    // The retransmission, keepalive and SYN paths are the kernel's
    // (TCP_USER_TIMEOUT): they end in state CLOSE, handled above, or in an
    // ETIMEDOUT from Node, augmented below.
    const inFlight = sendQueue - unsent;

    // Persist path: unsent data, nothing in flight, no progress.
    if (unsent > 0 && inFlight <= 0) {
      if (seen.unsentSince < 0 || progressed) seen.unsentSince = now;
      if (now - seen.unsentSince >= timeout) {
        const reason: DeathReason = sndWnd === 0 || probes > 0 ? 'zero-window' : 'unsent';
        die(reason, bytesAcked, sendQueue, reason === 'zero-window'
          ? `the peer's receive window stayed closed for ${timeout} ms with ${unsent} bytes unsent`
          : `${unsent} bytes sat unsent with nothing in flight for ${timeout} ms`);
      }
    } else {
      seen.unsentSince = -1;
    }
  };

  /** tcpi_state is CLOSE while Node still holds the socket. */
  const onKernelClosed = (sendQueue: number, unsent: number, retransmits: number, probes: number,
    sndWnd: number | undefined, bytesAcked: number): void => {
    const reason = seen.hint ?? pathOf(sendQueue, unsent, retransmits, probes, sndWnd, TCP_STATE.CLOSE);
    if (reason === null && socket.writableEnded && sendQueue <= 0) {
      // We sent our FIN and everything was acknowledged: an orderly close
      // Node has not read to the end yet, not a death.
      handle.stop();
      return;
    }
    die(reason ?? 'kernel', bytesAcked, sendQueue, `the kernel closed the connection while Node was not reading${
      reason ? ` (last seen: ${reason})` : ''}`);
  };

  /** Augments an ETIMEDOUT that Node itself got from the kernel (read/write/connect). */
  const augment = (err: unknown): void => {
    if (stopped || !(err instanceof Error)) return;
    const e = err as Partial<PeerGoneError> & { code?: unknown };
    if (e.code !== 'ETIMEDOUT' || typeof e.reason === 'string') return;
    let bytesAcked = -1, sendQueue = 0, reason: DeathReason | null = seen.hint;
    const f = fdOrNone(socket);
    if (f >= 0) {
      // One batch record; null (fd unusable) counts everything as unacknowledged.
      const s = readOne(f);
      if (s) {
        if (s.has(OFF.bytesAcked, 8)) bytesAcked = s.u64(OFF.bytesAcked);
        sendQueue = s.sendQueue;
        if (reason === null) {
          const sndWnd = s.has(OFF.sndWnd, 4) ? s.u32(OFF.sndWnd) : undefined;
          reason = pathOf(sendQueue, s.unsent, s.u8(OFF.retransmits), s.u8(OFF.probes), sndWnd, TCP_STATE.CLOSE);
        }
      }
    }
    if (reason === null && (e as { syscall?: unknown }).syscall === 'connect') reason = 'retransmit';
    e.reason = reason ?? 'kernel';
    e.unacknowledgedBytes = bytesAcked < 0 ? bytesWrittenBy(socket) : unacknowledgedBytes(bytesAcked, sendQueue);
    const retained = retainedUnacknowledged(socket);
    if (Buffer.isBuffer(retained)) e.unacknowledged = retained;
  };

  // Node destroys the socket with its error (read, write and connect paths all
  // call socket.destroy(err)) before emitting 'error': augmenting there keeps
  // the user's listeners, and the process-crashing default, untouched.
  const ownDestroy = Object.prototype.hasOwnProperty.call(socket, 'destroy') ? socket.destroy : undefined;
  const originalDestroy = socket.destroy;
  const wrappedDestroy = function (this: net.Socket, error?: Error, cb?: (err: Error | null) => void) {
    if (error) augment(error);
    return (originalDestroy as (e?: Error, c?: unknown) => net.Socket).call(this, error, cb);
  } as typeof socket.destroy;
  socket.destroy = wrappedDestroy;

  const attach = (): boolean => {
    const f = fdOrNone(socket);
    if (f < 0) return false;
    try {
      setOptions(f, kernelOptions);
    } catch {
      return false; // e.g. EINVAL on a socket that is already shutting down
    }
    const r = native.cookie(f);
    const cookie = typeof r === 'bigint' ? r : 0n;
    if (f === fd && registration) return true;
    registration?.remove();
    fd = f;
    registration = scheduler.add(f, cookie, pollInterval, {
      onSample,
      valid: () => !stopped && !socket.destroyed && fdOrNone(socket) === f,
    });
    return true;
  };

  const onConnect = (): void => {
    if (!stopped) attach();
  };
  const onClose = (): void => handle.stop();

  const handle: FailFastHandle = {
    timeout,
    options: Object.freeze({ ...kernelOptions }),
    stop(): void {
      if (stopped) return;
      stopped = true;
      registration?.remove();
      registration = null;
      if (fdPoll) clearInterval(fdPoll);
      fdPoll = null;
      socket.removeListener('connect', onConnect);
      socket.removeListener('close', onClose);
      if (socket.destroy === wrappedDestroy) {
        if (ownDestroy) socket.destroy = ownDestroy;
        else delete (socket as { destroy?: unknown }).destroy;
      }
      if (active.get(socket) === handle) active.delete(socket);
    },
  };
  active.set(socket, handle);
  socket.once('close', onClose);

  if (socket.connecting) {
    socket.once('connect', onConnect);
    // libuv creates the fd inside connect(), a tick (or a DNS lookup) after
    // net.connect() returns; the SYN is out by then, but TCP_USER_TIMEOUT is
    // checked at each SYN retransmission, so applying it now still counts.
    if (!attach()) {
      fdPoll = setInterval(() => {
        if (stopped || !socket.connecting || attach()) {
          if (fdPoll) clearInterval(fdPoll);
          fdPoll = null;
        }
      }, 20);
      fdPoll.unref();
    }
  } else {
    attach();
  }
  return handle;
}

