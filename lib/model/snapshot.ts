/**
 * A flat, metrics-ready reading of one TCP connection: stable snake_case
 * names in base units (seconds, bytes, segments), `_total` for values that
 * only grow, as Prometheus and OpenTelemetry expect for gauges and counters.
 * Pure: made from readings you already have (readings/snapshot.ts reads a
 * live socket for it).
 */
import type { Target } from '../kernel/fd';
import type { Queues } from '../kernel/sockopt';
import type { TcpInfo } from '../kernel/tcpinfo';

/**
 * One reading of a TCP connection. Names and units are a stable contract.
 * Fields marked "kernel x.y+" are absent (not 0) when the running kernel's
 * tcp_info is too short to carry them.
 */
export interface TcpSnapshot {
  /** Kernel TCP state number (1 ESTABLISHED, 7 CLOSE, 8 CLOSE_WAIT, ...; see TCP_STATES). */
  tcp_state: number;
  /** Smoothed round-trip time, seconds. */
  tcp_rtt_seconds: number;
  /** Round-trip time variance (mean deviation), seconds. */
  tcp_rtt_variance_seconds: number;
  /** Current retransmission timeout including backoff, seconds. */
  tcp_rto_seconds: number;
  /** Congestion window, segments. */
  tcp_cwnd_segments: number;
  /** Send maximum segment size, bytes. */
  tcp_mss_bytes: number;
  /** Segments in flight (sent, not yet acknowledged). */
  tcp_in_flight_segments: number;
  /** Segments the kernel currently presumes lost. */
  tcp_lost_segments: number;
  /** Consecutive retransmission timeouts without progress in the current episode (0 when healthy). */
  tcp_consecutive_timeouts: number;
  /** Exponential backoff shift of the RTO or persist timer (0 when healthy). */
  tcp_backoff: number;
  /** Unanswered zero-window or keepalive probes. */
  tcp_probes: number;
  /** Segments retransmitted over the connection's life (incl. tail-loss probes). */
  tcp_retransmits_total: number;
  /** SIOCOUTQ: bytes in the kernel send queue (unsent + unacknowledged). */
  tcp_send_queue_bytes: number;
  /** SIOCOUTQNSD: bytes in the kernel send queue never transmitted. */
  tcp_unsent_bytes: number;
  /** Bytes transmitted and not yet acknowledged by the peer (send queue - unsent). */
  tcp_unacknowledged_bytes: number;
  /** SIOCINQ: bytes received and not yet read by the application. */
  tcp_receive_queue_bytes: number;
  /** Bytes waiting in Node's userland write buffer (socket.writableLength); absent for an fd target. */
  tcp_userland_queue_bytes?: number;
  /** Time since the peer last acknowledged anything, seconds: "last heard from". */
  tcp_last_ack_recv_seconds: number;
  /** Time since data was last received, seconds. */
  tcp_last_data_recv_seconds: number;
  /** Time since data was last sent, seconds. */
  tcp_last_data_sent_seconds: number;
  /** Bytes acknowledged by the peer (counts SYN and FIN, one each). Kernel 4.1+. */
  tcp_bytes_acked_total?: number;
  /** Bytes received. Kernel 4.1+. */
  tcp_bytes_received_total?: number;
  /** Segments sent, incl. pure ACKs and retransmissions. Kernel 4.2+. */
  tcp_segments_sent_total?: number;
  /** Segments received. Kernel 4.2+. */
  tcp_segments_received_total?: number;
  /** Windowed minimum RTT, seconds. Kernel 4.6+. */
  tcp_min_rtt_seconds?: number;
  /** Most recent delivery-rate sample, bytes per second. Kernel 4.9+. */
  tcp_delivery_rate_bytes_per_second?: number;
  /** Time with data in flight, seconds. Kernel 4.10+. */
  tcp_busy_seconds_total?: number;
  /** Time limited by the peer's receive window, seconds. Kernel 4.10+. */
  tcp_receive_window_limited_seconds_total?: number;
  /** Time limited by the local send buffer, seconds. Kernel 4.10+. */
  tcp_send_buffer_limited_seconds_total?: number;
  /** Bytes sent, incl. retransmissions. Kernel 4.19+. */
  tcp_bytes_sent_total?: number;
  /** Bytes retransmitted. Kernel 4.19+. */
  tcp_bytes_retransmitted_total?: number;
  /** The peer's advertised receive window, bytes (0 = zero window). Kernel 5.4+. */
  tcp_send_window_bytes?: number;
  /** Retransmission timeouts, incl. SYN. Kernel 6.7+. */
  tcp_rto_timeouts_total?: number;
  /** Time spent in RTO recovery, incl. an unfinished episode, seconds. Kernel 6.7+. */
  tcp_rto_recovery_seconds_total?: number;
}

/** Divisors to seconds (division keeps 200000 µs -> exactly 0.2 s). */
const US = 1e6;
const MS = 1e3;

/**
 * The {@link TcpSnapshot} of readings you already have (no syscalls).
 * `target` only adds Node's userland queue (`writableLength`) when it is a
 * socket.
 */
export function snapshotOf(info: TcpInfo, q: Queues, target?: Target): TcpSnapshot {
  const out: TcpSnapshot = {
    tcp_state: info.stateNumber,
    tcp_rtt_seconds: info.rtt / US,
    tcp_rtt_variance_seconds: info.rttvar / US,
    tcp_rto_seconds: info.rto / US,
    tcp_cwnd_segments: info.sndCwnd,
    tcp_mss_bytes: info.sndMss,
    tcp_in_flight_segments: info.unacked,
    tcp_lost_segments: info.lost,
    tcp_consecutive_timeouts: info.retransmits,
    tcp_backoff: info.backoff,
    tcp_probes: info.probes,
    tcp_retransmits_total: info.totalRetrans,
    tcp_send_queue_bytes: q.sendQueue,
    tcp_unsent_bytes: q.unsent,
    tcp_unacknowledged_bytes: q.unacknowledged,
    tcp_receive_queue_bytes: q.receiveQueue,
    tcp_last_ack_recv_seconds: info.lastAckRecv / MS,
    tcp_last_data_recv_seconds: info.lastDataRecv / MS,
    tcp_last_data_sent_seconds: info.lastDataSent / MS,
  };
  const userland = (target as { writableLength?: unknown } | undefined)?.writableLength;
  if (typeof userland === 'number') out.tcp_userland_queue_bytes = userland;
  const optional: Array<[keyof TcpSnapshot, number | undefined, number]> = [
    ['tcp_bytes_acked_total', info.bytesAcked, 1],
    ['tcp_bytes_received_total', info.bytesReceived, 1],
    ['tcp_segments_sent_total', info.segsOut, 1],
    ['tcp_segments_received_total', info.segsIn, 1],
    ['tcp_min_rtt_seconds', info.minRtt, US],
    ['tcp_delivery_rate_bytes_per_second', info.deliveryRate, 1],
    ['tcp_busy_seconds_total', info.busyTime, US],
    ['tcp_receive_window_limited_seconds_total', info.rwndLimited, US],
    ['tcp_send_buffer_limited_seconds_total', info.sndbufLimited, US],
    ['tcp_bytes_sent_total', info.bytesSent, 1],
    ['tcp_bytes_retransmitted_total', info.bytesRetrans, 1],
    ['tcp_send_window_bytes', info.sndWnd, 1],
    ['tcp_rto_timeouts_total', info.totalRto, 1],
    ['tcp_rto_recovery_seconds_total', info.totalRtoTime, MS],
  ];
  for (const [name, value, scale] of optional) {
    if (value !== undefined) (out as unknown as Record<string, number>)[name] = value / scale;
  }
  return out;
}

/**
 * Every name a {@link TcpSnapshot} can hold, with a one-line help text naming its
 * unit, in a stable order: for registering gauges up front.
 */
export const SNAPSHOT_METRICS: Readonly<Record<keyof TcpSnapshot, string>> = Object.freeze({
  tcp_state: 'Kernel TCP state number (1 ESTABLISHED, 7 CLOSE, 8 CLOSE_WAIT)',
  tcp_rtt_seconds: 'Smoothed round-trip time, seconds',
  tcp_rtt_variance_seconds: 'Round-trip time variance, seconds',
  tcp_rto_seconds: 'Current retransmission timeout including backoff, seconds',
  tcp_cwnd_segments: 'Congestion window, segments',
  tcp_mss_bytes: 'Send maximum segment size, bytes',
  tcp_in_flight_segments: 'Segments sent and not yet acknowledged',
  tcp_lost_segments: 'Segments presumed lost',
  tcp_consecutive_timeouts: 'Consecutive retransmission timeouts in the current episode',
  tcp_backoff: 'Backoff shift of the retransmission or persist timer',
  tcp_probes: 'Unanswered zero-window or keepalive probes',
  tcp_retransmits_total: 'Segments retransmitted over the connection life',
  tcp_send_queue_bytes: 'Kernel send queue (unsent + unacknowledged), bytes',
  tcp_unsent_bytes: 'Kernel send queue never transmitted, bytes',
  tcp_unacknowledged_bytes: 'Transmitted and not yet acknowledged, bytes',
  tcp_receive_queue_bytes: 'Received and not yet read by the application, bytes',
  tcp_userland_queue_bytes: 'Node userland write buffer, bytes',
  tcp_last_ack_recv_seconds: 'Time since the peer last acknowledged anything, seconds',
  tcp_last_data_recv_seconds: 'Time since data was last received, seconds',
  tcp_last_data_sent_seconds: 'Time since data was last sent, seconds',
  tcp_bytes_acked_total: 'Bytes acknowledged by the peer',
  tcp_bytes_received_total: 'Bytes received',
  tcp_segments_sent_total: 'Segments sent',
  tcp_segments_received_total: 'Segments received',
  tcp_min_rtt_seconds: 'Windowed minimum round-trip time, seconds',
  tcp_delivery_rate_bytes_per_second: 'Delivery rate, bytes per second',
  tcp_busy_seconds_total: 'Time with data in flight, seconds',
  tcp_receive_window_limited_seconds_total: 'Time limited by the peer receive window, seconds',
  tcp_send_buffer_limited_seconds_total: 'Time limited by the send buffer, seconds',
  tcp_bytes_sent_total: 'Bytes sent including retransmissions',
  tcp_bytes_retransmitted_total: 'Bytes retransmitted',
  tcp_send_window_bytes: 'Peer advertised receive window, bytes',
  tcp_rto_timeouts_total: 'Retransmission timeouts',
  tcp_rto_recovery_seconds_total: 'Time spent in RTO recovery, seconds',
});
