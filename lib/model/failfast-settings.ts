/**
 * The kernel options failFast sets for a timeout: pure arithmetic, shared by
 * failFast (policy), the deadline text (explain) and `tcp-vitals doctor`.
 */
import type { SocketOptions } from '../kernel/options';
import { validateWholeSeconds } from '../common/validate';

/** Smallest accepted `timeout`, ms: one second of keepalive idle plus one probe interval. */
export const FAIL_FAST_MIN_TIMEOUT_MS = 2_000;
/** Largest accepted `timeout`, ms (one hour). Beyond that, failing "fast" is not what is wanted. */
export const FAIL_FAST_MAX_TIMEOUT_MS = 3_600_000;
/** Keepalive probe interval failFast uses, ms. One second: the finest the kernel offers. */
export const FAIL_FAST_PROBE_INTERVAL_MS = 1_000;
/**
 * How much shorter than `timeout` the TCP_USER_TIMEOUT is, ms: the kernel's
 * minimum retransmission timeout (TCP_RTO_MIN). The user timeout counts from
 * the first retransmission, which comes one RTO after the lost write.
 */
export const FAIL_FAST_RTO_ALLOWANCE_MS = 200;

/** Whether `t` is a timeout failFast and protect() accept (whole seconds, 2 s .. 1 h); never throws. */
export function isTimeout(t: unknown): t is number {
  return typeof t === 'number' && Number.isInteger(t) && t % 1000 === 0 && t >= FAIL_FAST_MIN_TIMEOUT_MS && t <= FAIL_FAST_MAX_TIMEOUT_MS;
}

/** `timeout` as failFast accepts it (whole seconds, 2 s .. 1 h), or ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE. */
export function validateTimeout(timeout: unknown, name: string): number {
  return validateWholeSeconds(name, timeout, FAIL_FAST_MIN_TIMEOUT_MS, FAIL_FAST_MAX_TIMEOUT_MS);
}

/**
 * The kernel options failFast sets for `timeoutMs` (whole seconds,
 * 2000..3600000 ms), without touching any socket; for `tcp-vitals doctor`
 * and the deadline model.
 *
 * - `userTimeout` = timeout - 200 ms: the kernel counts TCP_USER_TIMEOUT from
 *   the first retransmission, one RTO (200 ms minimum) after the lost write,
 *   so a connection with unacknowledged data dies about `timeout` after the
 *   peer went silent (kernel 4.19+ clamps the RTO timer to the user timeout).
 *   The same timeout bounds a SYN that gets no answer (5.4+) and a window
 *   that stays closed (zero-window probing, 5.11+).
 * - `keepAliveIdle` = half the timeout (whole seconds, at least 1 s),
 *   `keepAliveInterval` = 1 s: on a healthy idle connection one probe every
 *   idle period; once the peer stops answering, a probe every second. With a
 *   user timeout set the kernel ignores the probe count and kills the
 *   connection at the first keepalive tick at which nothing was received for
 *   the user timeout with a probe outstanding: the tick `timeout` after the
 *   peer was last heard from, after (timeout - idle) / 1 s unanswered probes.
 * - `keepAliveCount` = that number of probes (at most 127), so a kernel that
 *   applied the count instead would give up at the same tick.
 */
export function failFastOptions(timeoutMs: number): Required<Pick<SocketOptions,
  'keepAlive' | 'keepAliveIdle' | 'keepAliveInterval' | 'keepAliveCount' | 'userTimeout'>> {
  const timeout = validateTimeout(timeoutMs, 'timeoutMs');
  const idle = Math.max(1000, Math.floor(timeout / 2000) * 1000);
  const interval = FAIL_FAST_PROBE_INTERVAL_MS;
  return {
    keepAlive: true,
    keepAliveIdle: idle,
    keepAliveInterval: interval,
    keepAliveCount: Math.min(127, (timeout - idle) / interval),
    userTimeout: timeout - FAIL_FAST_RTO_ALLOWANCE_MS,
  };
}

