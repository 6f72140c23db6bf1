/**
 * What happened to the bytes the application wrote: `delivery()` (a reading),
 * `acked()` (a wait for the peer's acknowledgement) and `retain()` (keep the
 * unacknowledged suffix of the written stream so it can be replayed).
 *
 * The peer's ACK is the only delivery signal TCP gives a sender. The kernel
 * counts it in tcpi_bytes_acked (one more on the connecting side, whose SYN
 * takes a sequence number); SIOCOUTQ counts what it still holds (+1 for a
 * queued FIN); Node's `bytesWritten` counts what the application wrote,
 * including what still sits in Node's own write buffer.
 *
 * The implementation, one idea a module, is in lib/delivery/:
 * - reading.ts: one reading of the kernel (tcp_info state and bytes_acked, SIOCOUTQ);
 * - account.ts: the byte accounting of a reading, and delivery();
 * - tracker.ts: per-socket tracking (write/destroy hooks, one scheduler
 *   registration, the reading taken at destroy);
 * - waiters.ts: the queue of acked() calls on a socket and the error they get
 *   when the connection dies first;
 * - acked.ts: acked();
 * - retainer.ts: the retained bytes; retain.ts: retain(), retention(),
 *   retainedUnacknowledged().
 */
export { delivery } from './account';
export type { Delivery } from './account';
export { followDelivery } from './tracker';
export { acked } from './acked';
export type { AckedOptions, AckAbortError } from './acked';
export { DEFAULT_MAX_RETAINED_BYTES, retain, retention, retainedUnacknowledged } from './retain';
export type { RetainOptions, Retention } from './retain';
