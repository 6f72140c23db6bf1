/**
 * The kernel's RTO constants and tcp_model_timeout(): how much time a number
 * of retries stands for.
 */
import { validateNumber } from '../common/validate';

/** TCP_RTO_MIN, ms: the kernel's built-in minimum RTO, also the rto_base of the tcp_retries2 budget. */
export const TCP_RTO_MIN_MS = 200;
/** TCP_TIMEOUT_INIT, ms: initial RTO of a SYN, also the rto_base of the SYN budget. */
export const TCP_TIMEOUT_INIT_MS = 1000;
/** TCP_RTO_MAX, ms: built-in ceiling of the RTO. */
export const TCP_RTO_MAX_MS = 120_000;

/** Smallest RTO the model takes, ms (1 µs: tcp_rto_min_us accepts 1). */
export const MIN_RTO_INPUT_MS = 0.001;

/**
 * The RTO floor the kernel applies, ms: tcp_rto_min_us converted to jiffies
 * (usecs_to_jiffies rounds up, so 500 µs is one jiffy, 4 ms at HZ 250) and,
 * since the RTO is always bounded by rto_max (tcp_bound_rto), never above
 * `rtoMaxMs`: with tcp_rto_min_us 5 s and tcp_rto_max_ms 1000, tcpi_rto is
 * 1 s (measured on 6.18). Unknown HZ: the sysctl as it is.
 */
export function rtoFloorMs(rtoMinMs: number, rtoMaxMs: number, hz?: number): number {
  const floor = hz ? Math.ceil((rtoMinMs * hz) / 1000 - 1e-9) * (1000 / hz) : rtoMinMs;
  return Math.min(Math.max(floor, MIN_RTO_INPUT_MS), rtoMaxMs);
}

/**
 * tcp_model_timeout(): the time budget, ms, that `n` retries stand for when
 * the RTO starts at `rtoBase` and doubles up to `rtoMax`.
 * `retriesBudgetMs(15)` = 924600; with rtoMax 1000: 14400.
 */
export function retriesBudgetMs(n: number, rtoBase = TCP_RTO_MIN_MS, rtoMax = TCP_RTO_MAX_MS): number {
  validateNumber('n', n, 0, 255, true);
  validateNumber('rtoBase', rtoBase, MIN_RTO_INPUT_MS, 3_600_000);
  validateNumber('rtoMax', rtoMax, rtoBase, 3_600_000);
  const thresh = Math.floor(Math.log2(Math.floor(rtoMax / rtoBase)));
  return n <= thresh
    ? (2 ** (n + 1) - 1) * rtoBase
    : (2 ** (thresh + 1) - 1) * rtoBase + (n - thresh) * rtoMax;
}
