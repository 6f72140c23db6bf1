/**
 * Byte accounting shared by failFast, watch and the delivery API: how much of
 * what the application wrote has the peer acknowledged?
 *
 * acknowledged = tcpi_bytes_acked - 1 (the SYN's sequence number), clamped to
 * what was written (a FIN's ACK also counts one). written = Node's
 * `socket.bytesWritten`, which includes bytes still in Node's userland buffer.
 * For TLS sockets Node counts plaintext while the kernel counts ciphertext:
 * see README ("TLS").
 */
import type { Socket } from 'node:net';

/** Bytes the application has written to `socket` (kernel + Node's userland buffer). */
export function bytesWrittenBy(socket: Socket): number {
  return socket.bytesWritten ?? 0;
}

/**
 * Bytes of `written` the peer acknowledged, from tcpi_bytes_acked. The SYN
 * (and later the FIN) occupy one sequence number each, hence the -1 and the clamp.
 */
export function acknowledgedFrom(bytesAcked: number, written: number): number {
  return Math.min(written, Math.max(0, bytesAcked - 1));
}

/** Bytes the application wrote that the peer has not acknowledged. */
export function unacknowledgedFrom(bytesAcked: number, written: number): number {
  return written - acknowledgedFrom(bytesAcked, written);
}
