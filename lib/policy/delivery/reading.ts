/**
 * One reading of the kernel's side of a socket for the delivery API:
 * tcp_info (state, tcpi_bytes_acked), then SIOCOUTQ.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { readOne, Sample } from '../../runtime/scheduler';
import { TCP_INFO_OFFSETS, TCP_STATE } from '../../kernel/tcpinfo';

const BYTES_ACKED = TCP_INFO_OFFSETS.bytesAcked;

/** One consistent-enough reading of the kernel's side (tcp_info, then SIOCOUTQ). */
export interface Reading {
  state: number;
  /** tcpi_bytes_acked, or -1 when the kernel does not report it (< 4.1). */
  bytesAcked: number;
  /** SIOCOUTQ, bytes (+1 for a queued FIN). */
  sendQueue: number;
}

/** The {@link Reading} in a scheduler sample (valid only inside onSample). */
export function readingOf(sample: Sample): Reading {
  return {
    state: sample.state,
    bytesAcked: sample.has(BYTES_ACKED, 8) ? sample.u64(BYTES_ACKED) : -1,
    sendQueue: sample.sendQueue,
  };
}

/** Reads `fd` now; null when the fd is unusable or (cookie given) no longer this socket. */
export function readNow(fd: number, cookie: bigint): Reading | null {
  const sample = readOne(fd, cookie);
  return sample && readingOf(sample);
}

/** Whether `socket` is TLS (the kernel then counts ciphertext, Node plaintext). */
export function isTls(socket: net.Socket): boolean {
  return socket instanceof tls.TLSSocket;
}

/** 1 when SIOCOUTQ in `state` includes a queued FIN, else 0 (bytes). */
export function finQueued(socket: net.Socket, state: number): number {
  if (state === TCP_STATE.FIN_WAIT1 || state === TCP_STATE.CLOSING || state === TCP_STATE.LAST_ACK) return 1;
  // After death (CLOSE) the state no longer says whether a FIN was queued;
  // Node finishing its shutdown() does.
  return state === TCP_STATE.CLOSE && socket.writableFinished ? 1 : 0;
}
