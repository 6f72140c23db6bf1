/**
 * failFast(socket, opts): "guard this socket's handle with these settings".
 * It registers the socket with the engine (policy/protect: the connection
 * table, the deathwatch, the armed poller; guard.ts), with settings that
 * override protect()'s; it works with no protect() running. Detection, the
 * error and its publication are the engine's.
 */
import * as net from 'node:net';
import { codedError, invalidArgType } from '../common/errors';
import { ownOption, validateInteger, validateObject } from '../common/validate';
import { fdOrNone, requireTcpSocket } from '../kernel/fd';
import { SocketOptions } from '../kernel/options';
import { failFastOptions, validateTimeout } from '../model/failfast-settings';
import { stopOnAbort, validateSignal } from '../runtime/signal';
import { guard, GuardSettings } from './protect/guard';
import { pollIntervalFor } from './protect/config';

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
   * How often a socket with data outstanding is sampled, ms (50..timeout/2).
   * Default: timeout / 10, clamped to 100..1000. Detection by the poller
   * lands within `timeout` + one interval.
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
  /** Takes the socket out of the engine: no detection, no augmentation (idempotent). The kernel options stay. */
  stop(): void;
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
 * window, about `timeout` after it closed; idle when the peer vanished and
 * written to later, `timeout` after the peer was last heard from plus up to
 * one `pollInterval`. A socket Node is not reading is reported all the same
 * (the deathwatch). Kernel timer slack (≤ 1/8 of a timer, ≤ 32 ms for 1 s
 * timers) comes on top.
 *
 * Sets the options of {@link failFastOptions} now if the socket has a file
 * descriptor (connected, or connect() already issued), else when libuv
 * creates it, and again after any setKeepAlive() (so they win over
 * net.connect's `keepAlive`). Call it after connect(); calling it again
 * replaces the previous failFast on that socket; a socket protect() covers is
 * taken over with these settings.
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
  let pollInterval = pollIntervalFor(timeout);
  const p = ownOption(options, 'pollInterval');
  if (p !== undefined) pollInterval = validateInteger('options.pollInterval', p, 50, timeout / 2);
  const signal = validateSignal(ownOption(options, 'signal'));
  if (socket.destroyed) throw codedError('ERR_SOCKET_CLOSED', 'Socket is closed');
  if (fdOrNone(socket) < 0 && !socket.connecting) {
    throw codedError('ERR_SOCKET_NOT_CONNECTED', 'Socket is not connected: call failFast after socket.connect()');
  }
  const own: GuardSettings = Object.freeze({ timeout, pollInterval });
  const engine = guard();
  // Registered before anything is hooked: a kernel refusal or a reused fd (ESTALE) leaves the socket untouched.
  engine.take(socket, own);
  let unhookSignal = (): void => {};
  const stop = (): void => {
    unhookSignal();
    socket.removeListener('close', stop);
    engine.drop(socket, own);
  };
  socket.once('close', stop);
  unhookSignal = stopOnAbort(signal, stop);
  return { timeout, options: Object.freeze({ ...failFastOptions(timeout) }), stop };
}
