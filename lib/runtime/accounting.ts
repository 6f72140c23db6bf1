/**
 * The unacknowledged-bytes formula of model/accounting applied to a live
 * socket: what Node says about it (bytes written, userland buffer, accepted
 * or connected, TLS) plus one kernel reading.
 */
import * as net from 'node:net';
import { bytesWrittenBy, unacknowledgedBytes } from '../model/accounting';
import { isAccepted } from './socket-hooks';

/**
 * Sequence numbers tcpi_bytes_acked counts besides data at the start of the
 * connection: 1 (the SYN) for a socket that connected, 0 for one a server
 * accepted (measured on 6.18: a client that wrote 200000 reads 200001).
 */
export function synOffset(socket: net.Socket): 0 | 1 {
  return isAccepted(socket) ? 0 : 1;
}

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
    syn: synOffset(socket),
    // A TLSSocket sets `encrypted` (instanceof would load node:tls, and crypto with it, into every process).
    tls: (socket as net.Socket & { encrypted?: unknown }).encrypted === true,
  });
}
