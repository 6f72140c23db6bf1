/**
 * The unacknowledged-bytes formula of model/accounting applied to a live
 * socket: what Node says about it (bytes written, userland buffer, accepted
 * or connected, TLS) plus one kernel reading.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { bytesWrittenBy, unacknowledgedBytes } from '../model/accounting';
import { isAccepted } from './socket-hooks';

/**
 * Bytes written to `socket` and not acknowledged, from tcpi_bytes_acked (-1
 * unknown) and SIOCOUTQ without a queued FIN (-1 unknown). See
 * {@link unacknowledgedBytes}.
 */
export function unacknowledgedOfSocket(socket: net.Socket, bytesAcked: number, sendQueue: number): number {
  return unacknowledgedBytes({
    written: bytesWrittenBy(socket),
    bytesAcked,
    sendQueue,
    userland: socket.writableLength,
    syn: isAccepted(socket) ? 0 : 1,
    tls: socket instanceof tls.TLSSocket,
  });
}
