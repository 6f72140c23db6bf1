/**
 * Byte accounting shared by failFast, watch and the delivery API: how much of
 * what the application wrote has the peer acknowledged?
 *
 * acknowledged = tcpi_bytes_acked - 1 on the connecting side (its SYN's
 * sequence number is counted; measured on 6.18: a client that wrote 200000
 * bytes reads 200001), - 0 on an accepted socket (the SYN-ACK is not counted:
 * a server socket that wrote 50000 reads 50000), clamped to what was written
 * (a FIN's ACK also counts one). written = Node's
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
 * Bytes of `written` the peer acknowledged, from tcpi_bytes_acked. `syn` is
 * 1 for a connecting socket (its SYN is counted), 0 for an accepted one (default 1); a FIN's ACK adds one
 * more, hence the clamp.
 */
export function acknowledgedFrom(bytesAcked: number, written: number, syn: 0 | 1 = 1): number {
  return Math.min(written, Math.max(0, bytesAcked - syn));
}

/** Bytes the application wrote that the peer has not acknowledged. */
export function unacknowledgedFrom(bytesAcked: number, written: number, syn: 0 | 1 = 1): number {
  return written - acknowledgedFrom(bytesAcked, written, syn);
}

/** What {@link unacknowledgedBytes} needs to know about one socket and one reading (bytes). */
export interface UnacknowledgedInput {
  /** Bytes the application wrote (Node's `socket.bytesWritten`, userland buffer included). */
  written: number;
  /** tcpi_bytes_acked; -1 when unknown (kernel < 4.1). */
  bytesAcked: number;
  /** SIOCOUTQ without a queued FIN; -1 (or no reading at all) when unknown. */
  sendQueue: number;
  /** Bytes still in Node's userland buffer (`socket.writableLength`). */
  userland: number;
  /** 1 for a connecting socket (tcpi_bytes_acked counts its SYN), 0 for an accepted one. */
  syn: 0 | 1;
  /** A TLS socket: Node counts plaintext, the kernel ciphertext. */
  tls: boolean;
}

/**
 * Bytes the application wrote that the peer has not acknowledged: the one
 * formula failFast, watch and the delivery API use. Plain TCP: written minus
 * what tcpi_bytes_acked covers. TLS: the kernel counts ciphertext (handshake
 * and record overhead included), so every unacknowledged plaintext byte is
 * either still in userland or inside a ciphertext byte in the kernel queue;
 * this upper bound never claims delivery. Without tcpi_bytes_acked, the
 * queues bound it the same way. With nothing known, everything written.
 */
export function unacknowledgedBytes(i: UnacknowledgedInput): number {
  if (i.tls || i.bytesAcked < 0) {
    if (i.sendQueue < 0) return i.written;
    return Math.min(i.written, Math.max(0, i.sendQueue) + Math.max(0, i.userland));
  }
  return unacknowledgedFrom(i.bytesAcked, i.written, i.syn);
}
