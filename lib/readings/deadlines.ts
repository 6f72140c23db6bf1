/**
 * Retransmit-aware deadlines of a live socket: how long the kernel lets a
 * dead peer go unnoticed, per path (sending, idle, zero window, connecting),
 * computed from the namespace's sysctls, the socket's options and its
 * tcp_info. `deadlines()` and `explain()` read the socket; the math is the
 * pure model (model/compute.ts and its parts, public as `tcp-vitals/model`).
 *
 * Kernel logic modelled (net/ipv4/tcp_timer.c; docs/api-deadlines.md):
 * - death is only ever decided when a timer fires;
 * - retransmission path: at an RTO expiry, dead when `now - retrans_stamp >=`
 *   the user timeout U or, without U, `tcp_model_timeout(tcp_retries2)`;
 *   retrans_stamp is the first RTO retransmission; with U the timer is
 *   clamped to fire when U runs out;
 * - keepalive: ticks at idle, then every interval; dead when `count` probes
 *   are unanswered or, with U, at the first tick past U with a probe out;
 * - persist (zero window, live peer): never without U; with U, U after the
 *   first probe (clamped);
 * - SYN: dead when the SYN retransmissions reach syncnt (+ linear timeouts on
 *   6.5+) or the time budget tcp_model_timeout(syncnt, 1 s) is exceeded.
 * Timers fire late by up to one timer-wheel bucket (≈ 1/8 of the interval);
 * when that can move the verdict to another expiry, the result is a window
 * flagged `ambiguous` instead of a guess.
 */
import type { Target } from '../kernel/fd';
import { getOptions } from '../kernel/options';
import { kernelSettings } from '../kernel/sysctl';
import { tcpInfo } from '../kernel/tcpinfo';
import { computeDeadlines, Deadlines } from '../model/compute';
import { explainDeadlines } from '../model/explain';

/**
 * The deadlines of a live socket: reads its tcp_info, its options and the
 * namespace's sysctls. Throws like tcpInfo()/getOptions() for a bad target.
 */
export function deadlines(target: Target): Deadlines {
  const info = tcpInfo(target);
  const options = getOptions(target);
  return computeDeadlines({ settings: kernelSettings(), options, info });
}

/** {@link deadlines} as readable lines, with the traps spelled out. */
export function explain(target: Target): string[] {
  return explainDeadlines(deadlines(target));
}
