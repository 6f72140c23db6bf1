/**
 * requestVitals(reqOrRes): the TCP facts of the connection behind one HTTP
 * request, for one log line (HAProxy's fc_rtt/fc_retrans, nginx's
 * $tcpinfo_rtt). One native read (tcp_info + send queue), no allocation
 * beyond the returned object.
 */
import * as net from 'node:net';
import { invalidArgType } from '../common/errors';
import { fdOrNone } from '../kernel/fd';
import { TCP_INFO_OFFSETS } from '../kernel/tcpinfo';
import { readOne } from '../kernel/batch';
import { cookieOrNone, rememberedCookie } from '../kernel/identity';

/** What {@link requestVitals} returns. */
export interface RequestVitals {
  /** Smoothed round-trip time, ms (tcpi_rtt / 1000). */
  rttMs: number;
  /** Round-trip time variance, ms (tcpi_rttvar / 1000). */
  rttvarMs: number;
  /** Segments retransmitted over the connection's life (tcpi_total_retrans). */
  retransmits: number;
  /** The kernel's delivery-rate estimate, bytes per second (tcpi_delivery_rate; undefined if the kernel has none). */
  deliveryRate: number | undefined;
  /** Bytes sent and not yet acknowledged (SIOCOUTQ - SIOCOUTQNSD). */
  unacknowledgedBytes: number;
}

const OFF_RTT = TCP_INFO_OFFSETS.rtt;
const OFF_RTTVAR = TCP_INFO_OFFSETS.rttvar;
const OFF_TOTAL_RETRANS = TCP_INFO_OFFSETS.totalRetrans;
const OFF_DELIVERY_RATE = TCP_INFO_OFFSETS.deliveryRate;

/**
 * The connection vitals behind `reqOrRes`: an http(s) server's
 * `IncomingMessage` or `ServerResponse`, a client's response
 * `IncomingMessage` or `ClientRequest`, or a socket. Returns null when the
 * connection has no descriptor any more (closed) or is not TCP; never throws
 * for those. Works at the server's `res.on('finish')` and the client's
 * `res.on('end')` too, although Node has detached `res.socket` by then. Throws ERR_INVALID_ARG_TYPE for anything without a socket.
 */
export function requestVitals(reqOrRes: unknown): RequestVitals | null {
  if (reqOrRes === null || typeof reqOrRes !== 'object' || !(reqOrRes instanceof net.Socket || 'socket' in reqOrRes)) {
    throw invalidArgType('reqOrRes', 'an http IncomingMessage, ServerResponse, ClientRequest or net.Socket', reqOrRes);
  }
  // Node detaches the socket from a ServerResponse at 'finish' and from a
  // client's IncomingMessage at 'end' (keep-alive); their `req` (the server's
  // IncomingMessage, the ClientRequest) still holds it.
  const socket = reqOrRes instanceof net.Socket ? reqOrRes
    : (reqOrRes as { socket?: unknown }).socket ?? (reqOrRes as { req?: { socket?: unknown } }).req?.socket;
  if (socket === null || socket === undefined) return null;
  if (!(socket instanceof net.Socket)) return null; // e.g. an http2 compat socket proxy
  const fd = fdOrNone(socket);
  if (fd < 0) return null;
  const cookie = rememberedCookie(socket) ?? cookieOrNone(socket, fd);
  const s = cookie === null ? null : readOne(fd, cookie);
  if (!s) return null;
  return {
    rttMs: s.u32(OFF_RTT) / 1000,
    rttvarMs: s.u32(OFF_RTTVAR) / 1000,
    retransmits: s.u32(OFF_TOTAL_RETRANS),
    deliveryRate: s.has(OFF_DELIVERY_RATE, 8) ? s.u64(OFF_DELIVERY_RATE) : undefined,
    unacknowledgedBytes: Math.max(0, s.sendQueue - s.unsent),
  };
}
