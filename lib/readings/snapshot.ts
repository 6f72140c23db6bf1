/**
 * snapshot(target): one flat, metrics-ready reading of a live TCP socket (the
 * {@link TcpSnapshot} of model/snapshot.ts, from tcp_info and the queues).
 */
import type { Target } from '../kernel/fd';
import { queues } from '../kernel/sockopt';
import { tcpInfo } from '../kernel/tcpinfo';
import { snapshotOf, TcpSnapshot } from '../model/snapshot';

/**
 * Reads tcp_info and the queue sizes of a connected TCP socket (or fd) and
 * returns them as one flat {@link TcpSnapshot}. Cost: tcpInfo() plus queues()
 * (a few µs); meant for scrape-time collection, not hot loops (use `watch` for
 * that). Throws like `tcpInfo` and `queues` (e.g. ERR_SOCKET_CLOSED for a
 * destroyed socket, `ioctl EINVAL` for a listening socket).
 */
export function snapshot(target: Target): TcpSnapshot {
  return snapshotOf(tcpInfo(target), queues(target), target);
}
