/**
 * Closing a connection without losing data (`gracefulClose`, the lingering
 * close of Apache httpd) or on purpose with an RST (`reset`).
 *
 * Why: close() on a socket with unread input makes Linux send RST instead of
 * FIN (RFC 2525 §2.17), and the peer's kernel then throws away whatever of our
 * response it had not yet handed to its application, and ours discards the
 * rest of the send queue. See docs/api-delivery.md (gracefulClose).
 */
import * as net from 'node:net';
import { acked, followDelivery } from './delivery';
import { codedError, invalidArgType } from '../common/errors';
import { handleOf, requireTcpSocket } from '../kernel/fd';
import { socketFd } from '../kernel/identity';
import { constants, setsockopt } from '../kernel/sockopt';
import { ownOption, validateObject, validateInteger } from '../common/validate';

/** Default gracefulClose() timeout, ms (Apache's lingering close also gives up after 30 s). */
export const DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS = 30_000;

/** How a gracefulClose() ended. */
export type CloseOutcome = 'clean' | 'timeout' | 'reset' | 'error';

/** What {@link gracefulClose} observed. */
export interface CloseResult {
  /**
   * 'clean': the peer's EOF arrived and every written byte was acknowledged
   * before the timeout. 'timeout': one of the two did not happen in time (the
   * socket was then destroyed). 'reset': the peer sent RST (ECONNRESET).
   * 'error': the connection failed otherwise (see `error`).
   */
  outcome: CloseOutcome;
  /** Bytes read from the peer after gracefulClose() was called and discarded. */
  discardedBytes: number;
  /** Time from the call until the socket was closed, ms. */
  elapsedMs: number;
  /**
   * Written bytes the peer had not acknowledged when the socket was closed
   * (plain TCP exact; TLS an upper bound). -1 when it could not be read.
   */
  unacknowledgedBytes: number;
  /** The socket's error for 'reset' and 'error'. */
  error?: Error;
}

/** Options of {@link gracefulClose}. */
export interface GracefulCloseOptions {
  /** Longest wait for the peer's EOF and the acknowledgement of our data, ms (default 30,000). */
  timeout?: number;
}

const closing = new WeakMap<net.Socket, Promise<CloseResult>>();

/**
 * Lingering close: half-closes (`end()`: FIN after everything written), keeps
 * reading and discarding what the peer still sends until its EOF, waits for
 * every written byte to be acknowledged, then destroys the socket. Bounded by
 * `timeout`; the socket is destroyed in every case. Resolves (never rejects,
 * except for bad arguments) with a {@link CloseResult}.
 *
 * While it runs, the socket is resumed (other 'data' listeners still see the
 * bytes it counts as discarded) and an 'error' listener is attached, so a
 * reset during the close is reported in the result instead of thrown. Calling
 * it again on the same socket returns the same promise.
 */
export function gracefulClose(socket: net.Socket, options: GracefulCloseOptions = {}): Promise<CloseResult> {
  if (!(socket instanceof net.Socket)) return Promise.reject(invalidArgType('socket', 'an instance of net.Socket or tls.TLSSocket', socket));
  try {
    requireTcpSocket(socket);
  } catch (err) {
    return Promise.reject(err);
  }
  try { validateObject('options', options); } catch (err) { return Promise.reject(err); }
  let timeout: number;
  try {
    const t = ownOption(options, 'timeout');
    timeout = t === undefined ? DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS : validateInteger('options.timeout', t, 0, 2 ** 31 - 1);
  } catch (err) {
    return Promise.reject(err);
  }
  const running = closing.get(socket);
  if (running) return running;
  if (socket.destroyed) return Promise.reject(codedError('ERR_SOCKET_CLOSED', 'Socket is closed'));
  const result = linger(socket, timeout);
  closing.set(socket, result);
  return result;
}

function linger(socket: net.Socket, timeout: number): Promise<CloseResult> {
  const started = performance.now();
  let discardedBytes = 0;
  let error: Error | undefined;
  let eof = false;
  let unacknowledgedBytes = -1;

  const onData = (chunk: Buffer | string): void => { discardedBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length; };
  const onError = (err: Error): void => { error ??= err; };
  socket.on('data', onData);
  socket.on('error', onError);
  followDelivery(socket);

  const gotEof = new Promise<void>((resolve) => {
    if (socket.readableEnded) { eof = true; resolve(); return; }
    socket.once('end', () => { eof = true; resolve(); });
    socket.once('close', () => resolve());
  });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  timer.unref();
  const timedOut = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));

  socket.end();
  socket.resume();

  const closed = new Promise<void>((resolve) => {
    if (socket.destroyed && socket.closed) resolve(); else socket.once('close', () => resolve());
  });

  return (async (): Promise<CloseResult> => {
    await Promise.race([gotEof, timedOut]);
    let allAcked = false;
    if (!controller.signal.aborted) {
      try {
        await acked(socket, { signal: controller.signal });
        allAcked = true;
        unacknowledgedBytes = 0;
      } catch (err) {
        const n = (err as { unacknowledgedBytes?: unknown }).unacknowledgedBytes;
        if (typeof n === 'number') unacknowledgedBytes = n;
      }
    } else {
      // Timed out waiting for EOF: count what is still unacknowledged before closing.
      await acked(socket, { timeout: 0 }).then(
        () => { unacknowledgedBytes = 0; },
        (err: { unacknowledgedBytes?: unknown }) => { if (typeof err.unacknowledgedBytes === 'number') unacknowledgedBytes = err.unacknowledgedBytes; },
      );
    }
    clearTimeout(timer);
    socket.destroy();
    await closed;
    socket.off('data', onData);
    const code = (error as { code?: string } | undefined)?.code;
    let outcome: CloseOutcome;
    if (code === 'ECONNRESET') outcome = 'reset';
    else if (error) outcome = 'error';
    else outcome = eof && allAcked ? 'clean' : 'timeout';
    const result: CloseResult = { outcome, discardedBytes, elapsedMs: performance.now() - started, unacknowledgedBytes };
    if (error) result.error = error;
    return result;
  })();
}

const lingerZero = Buffer.alloc(8);
lingerZero.writeInt32LE(1, 0); // l_onoff = 1, l_linger = 0

/**
 * Abortive close: the kernel sends RST and discards both queues (no FIN, no
 * TIME_WAIT); the peer's next read fails with ECONNRESET. Uses Node's
 * `socket.resetAndDestroy()` for TCP handles and SO_LINGER {1, 0} + destroy()
 * otherwise (TLS). A socket still connecting is reset once connected; one
 * that never connected is destroyed without an error; a destroyed one is
 * left alone. Returns the socket.
 */
export function reset(socket: net.Socket): net.Socket {
  if (!(socket instanceof net.Socket)) throw invalidArgType('socket', 'an instance of net.Socket or tls.TLSSocket', socket);
  if (socket.destroyed) return socket;
  requireTcpSocket(socket);
  // No handle (never connected): nothing to reset. Node's resetAndDestroy()
  // would destroy it with ERR_SOCKET_CLOSED as 'error', an uncaught exception
  // without a listener; close it quietly instead.
  if (!handleOf(socket) && !socket.connecting) return socket.destroy();
  const withReset = socket as net.Socket & { resetAndDestroy?: () => net.Socket };
  try {
    if (typeof withReset.resetAndDestroy === 'function') return withReset.resetAndDestroy();
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_INVALID_HANDLE_TYPE') throw err;
  }
  // TLS (the handle is TLSWrap): linger 0 on the TCP fd underneath, then close.
  if (socket.connecting) {
    socket.once('connect', () => reset(socket));
    return socket;
  }
  const fd = socketFd(socket, 'socket');
  setsockopt(fd, constants.SOL_SOCKET, constants.SO_LINGER, lingerZero);
  return socket.destroy();
}
