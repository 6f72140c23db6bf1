/**
 * Byte accounting of a socket from one {@link Reading}, and `delivery()`.
 */
import * as net from 'node:net';
import { acknowledgedFrom, bytesWrittenBy } from '../../model/accounting';
import { synOffset, unacknowledgedOfSocket } from '../../runtime/accounting';
import { codedError, invalidArgType, invalidArgValue } from '../../common/errors';
import { fdOf, requireTcpSocket } from '../../kernel/fd';
import { checkedCookie } from '../../kernel/identity';
import { finQueued, isTls, Reading, readNow } from './reading';

/** Byte accounting of a socket; all values in bytes. */
export interface Delivery {
  /** Bytes the application has written (Node's `socket.bytesWritten`, userland buffer included). */
  written: number;
  /** Bytes of `written` the peer acknowledged: min(written, tcpi_bytes_acked − SYN). */
  acknowledged: number;
  /** Bytes in the kernel's send queue, sent or not, unacknowledged (SIOCOUTQ minus a queued FIN). */
  inKernel: number;
  /** Bytes still in Node's userland (written − acknowledged − inKernel, never negative). */
  inUserland: number;
}

/**
 * Where the bytes written to `socket` are according to `r`. Without
 * tcpi_bytes_acked (kernel < 4.1) acknowledged = written − queued bytes.
 */
export function account(socket: net.Socket, r: Reading): Delivery {
  const written = bytesWrittenBy(socket);
  const kernelQueue = Math.max(0, r.sendQueue - finQueued(socket, r.state));
  let acknowledged: number;
  if (r.bytesAcked >= 0) {
    acknowledged = acknowledgedFrom(r.bytesAcked, written, synOffset(socket));
  } else {
    acknowledged = Math.max(0, written - kernelQueue - socket.writableLength);
  }
  const inKernel = Math.min(kernelQueue, written - acknowledged);
  return { written, acknowledged, inKernel, inUserland: Math.max(0, written - acknowledged - inKernel) };
}

/** Unacknowledged bytes for an error: the one formula (runtime/accounting), exact for plain TCP, an upper bound for TLS. */
export function unacknowledgedOf(socket: net.Socket, r: Reading | null): number {
  if (!r) return bytesWrittenBy(socket);
  return unacknowledgedOfSocket(socket, r.bytesAcked, Math.max(0, r.sendQueue - finQueued(socket, r.state)));
}

/** Throws ERR_INVALID_ARG_TYPE unless `socket` is a net.Socket (tls.TLSSocket included). */
export function validateSocket(socket: unknown): asserts socket is net.Socket {
  if (!(socket instanceof net.Socket)) throw invalidArgType('socket', 'an instance of net.Socket or tls.TLSSocket', socket);
}

/**
 * Where the bytes written to `socket` are now: acknowledged by the peer, in
 * the kernel's send queue, or still in Node's userland buffer. Plain TCP
 * only: a TLS socket throws ERR_INVALID_ARG_VALUE (Node counts plaintext, the
 * kernel ciphertext; use {@link acked} there). A socket still connecting has
 * everything in userland. A destroyed socket throws ERR_SOCKET_CLOSED.
 *
 * tcp_info and SIOCOUTQ are two syscalls: an ACK landing between them can
 * shift a few bytes from `inKernel` to `inUserland` in that one reading.
 */
export function delivery(socket: net.Socket): Delivery {
  validateSocket(socket);
  requireTcpSocket(socket);
  if (isTls(socket)) throw invalidArgValue('socket', 'tls.TLSSocket', 'must be a plain TCP socket: TLS byte counts are ciphertext in the kernel and plaintext in Node');
  if (socket.connecting && !socket.destroyed) {
    const written = bytesWrittenBy(socket);
    return { written, acknowledged: 0, inKernel: 0, inUserland: written };
  }
  const fd = fdOf(socket, 'socket');
  const r = readNow(fd, checkedCookie(socket, fd));
  if (!r) throw codedError('ERR_SOCKET_CLOSED', 'Socket is closed');
  return account(socket, r);
}
