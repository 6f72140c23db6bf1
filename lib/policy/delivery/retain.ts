/**
 * retain(): keep the unacknowledged suffix of the written stream so that it
 * can be replayed elsewhere when the connection dies.
 */
import * as net from 'node:net';
import { bytesWrittenBy } from '../../model/accounting';
import { codedError, invalidArgValue } from '../../common/errors';
import { requireTcpSocket } from '../../kernel/fd';
import { ownOption, validateObject, validateInteger } from '../../common/validate';
import { account, validateSocket } from './account';
import { isTls } from './reading';
import { Retainer } from './retainer';
import { existingTrack, trackOf } from './tracker';

/** Default bound of retain(), bytes. */
export const DEFAULT_MAX_RETAINED_BYTES = 16 * 1024 * 1024;

/** Options of {@link retain}. */
export interface RetainOptions {
  /**
   * Most unacknowledged bytes kept, default 16 MiB; it bounds everything
   * unacknowledged, Node's own write buffer included. Past it the retained
   * bytes are released and the suffix is incomplete (retainedUnacknowledged
   * gives undefined) until the peer acknowledges everything written up to
   * that moment; retaining then covers the bytes written after it. While
   * Node's buffer alone pushes the unacknowledged bytes past it, the suffix
   * is incomplete too (never materialised), and whole again once acks bring
   * it back under the bound.
   */
  maxRetainedBytes?: number;
}

/** State of retain() on a socket. */
export interface Retention {
  /** The configured bound, bytes. */
  maxRetainedBytes: number;
  /** Bytes held right now (unacknowledged as of the last trim). */
  retainedBytes: number;
  /**
   * Whether the suffix can be given whole: false after an overflow until acks
   * pass it, and while the unacknowledged bytes (kernel and Node's buffer)
   * exceed the bound.
   */
  complete: boolean;
  /** Times the bound was exceeded. */
  overflows: number;
}

/**
 * Keeps a copy of every byte written to `socket` until the peer acknowledges
 * it, so that the error the connection dies with carries `unacknowledged`:
 * exactly the suffix of the written stream the peer did not acknowledge
 * (Node's still-buffered writes included), ready to resend elsewhere.
 * At-least-once: the peer may have received bytes whose ACK was lost.
 *
 * Call it before the first write (ERR_INVALID_STATE otherwise); plain TCP
 * only (ERR_INVALID_ARG_VALUE for a TLS socket). Calling it again changes the bound.
 */
export function retain(socket: net.Socket, options: RetainOptions = {}): void {
  validateSocket(socket);
  requireTcpSocket(socket);
  validateObject('options', options);
  const maxOption = ownOption(options, 'maxRetainedBytes');
  const max = maxOption === undefined
    ? DEFAULT_MAX_RETAINED_BYTES
    : validateInteger('options.maxRetainedBytes', maxOption, 1, Number.MAX_SAFE_INTEGER);
  if (isTls(socket)) throw invalidArgValue('socket', 'tls.TLSSocket', 'must be a plain TCP socket: the kernel acknowledges TLS ciphertext, not the written plaintext');
  if (socket.destroyed) throw codedError('ERR_SOCKET_CLOSED', 'Socket is closed');
  const existing = existingTrack(socket)?.retainer;
  if (existing) { existing.maxRetainedBytes = max; return; }
  if (bytesWrittenBy(socket) > 0 || socket.writableLength > 0) {
    throw codedError('ERR_INVALID_STATE', 'Invalid state: retain() must be enabled before the first byte is written to the socket');
  }
  const t = trackOf(socket);
  t.retainer = new Retainer(max, socket, () => {
    const reading = t.read();
    return reading ? account(socket, reading).acknowledged : null;
  });
}

/** retain()'s state on `socket`, or undefined when retain is off. */
export function retention(socket: net.Socket): Retention | undefined {
  validateSocket(socket);
  const t = existingTrack(socket);
  const r = t?.retainer;
  if (!t || !r) return undefined;
  const reading = t.read();
  if (reading) r.trim(account(socket, reading).acknowledged);
  const acknowledged = reading ? account(socket, reading).acknowledged : r.start;
  return { maxRetainedBytes: r.maxRetainedBytes, retainedBytes: r.size, complete: r.complete(acknowledged), overflows: r.overflows };
}

/**
 * With `retain` enabled on `socket`, the exact suffix of the written stream
 * the peer has not acknowledged (Node's userland buffer included), one Buffer
 * of at most maxRetainedBytes; undefined when retain is off, for TLS, or when
 * the suffix is incomplete (the bound was exceeded, see {@link Retention}). Works before the socket is destroyed (reads tcp_info) and
 * after (from the reading taken as it was destroyed).
 */
export function retainedUnacknowledged(socket: net.Socket): Buffer | undefined {
  if (!(socket instanceof net.Socket)) return undefined;
  return existingTrack(socket)?.suffix();
}
