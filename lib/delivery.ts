/**
 * Delivery accounting (owned by the delivery/close/server work; this is the
 * agreed entry point failFast uses when building its error).
 */
import type { Socket } from 'node:net';

/**
 * With `retain` enabled on `socket`, the exact suffix of the written stream
 * the peer has not acknowledged; undefined when retain is off. Must be called
 * before the socket is destroyed (it reads tcp_info).
 */
export function retainedUnacknowledged(socket: Socket): Buffer | undefined {
  void socket;
  return undefined;
}
