/**
 * The per-path models: retransmission, keepalive and connect (SYN), each a
 * death window from that path's kernel timers.
 */
import { MIN_RTO_INPUT_MS, retriesBudgetMs, TCP_RTO_MAX_MS, TCP_RTO_MIN_MS, TCP_TIMEOUT_INIT_MS } from './budget';
import { DeathWindow, windowOf } from './death-window';
import { timerLatenessMs } from './timer-slack';
import { validateNumber } from '../common/validate';

/** Inputs of the retransmission-path model. */
export interface RetransmitParams {
  /** Base RTO before backoff, ms (>= the minimum RTO; tcpi_rto >> tcpi_backoff). */
  baseRtoMs: number;
  /** tcp_retries2. */
  retries2: number;
  /** Ceiling of the RTO, ms (TCP_RTO_MAX_MS / tcp_rto_max_ms; 120000 before 6.15). */
  rtoMaxMs?: number;
  /** TCP_USER_TIMEOUT, ms (0 or undefined: off). */
  userTimeoutMs?: number;
  /** CONFIG_HZ when known (timer slack). */
  timerHz?: number;
}

/**
 * Death on the retransmission path, ms after the FIRST RTO retransmission
 * (the kernel's retrans_stamp). Without a user timeout: the first expiry at
 * which the tcp_retries2 budget is used up; with one: U, the timer clamped.
 * Checks against linux-tcp.md §9 (no HZ): (204, 4) → [6200, 14229];
 * (204, 15) → [924600, 1044549]; (204, 15, rtoMax 1000) → [14400, 17127].
 */
export function deathAfterFirstRetransmit(p: RetransmitParams): DeathWindow {
  const base = validateNumber('baseRtoMs', p.baseRtoMs, MIN_RTO_INPUT_MS, 3_600_000);
  const rtoMax = validateNumber('rtoMaxMs', p.rtoMaxMs ?? TCP_RTO_MAX_MS, 1, 3_600_000);
  const u = validateNumber('userTimeoutMs', p.userTimeoutMs ?? 0, 0, 0x7fffffff, true);
  return windowOf({
    interval: (k) => Math.min(base * 2 ** k, rtoMax),
    startElapsed: 0,
    threshold: u > 0 ? u : retriesBudgetMs(p.retries2, TCP_RTO_MIN_MS, Math.max(rtoMax, TCP_RTO_MIN_MS)),
    clamp: u > 0,
    timeTestFrom: 1,
    countLimit: Infinity,
    countBase: 0,
    hz: p.timerHz,
  });
}

/**
 * When the first RTO retransmission happens, ms after the first segment that
 * got no ACK: one RTO, or about two when a tail-loss probe (which does not
 * start the kernel's clock) goes first, as it does for a lone small segment.
 */
export function firstRetransmitDelay(baseRtoMs: number, noDelay: boolean | undefined, hz?: number): DeathWindow {
  const late = (ms: number, kind: 'max' | 'typical') => timerLatenessMs(ms, hz, kind);
  const ms = noDelay ? baseRtoMs + late(baseRtoMs, 'typical') : 2 * (baseRtoMs + late(baseRtoMs, 'typical'));
  return { ms, earliestMs: baseRtoMs, latestMs: 2 * (baseRtoMs + late(baseRtoMs, 'max')), ambiguous: false, expiry: 1 };
}

/** Longest keepalive time the model takes, ms: INT_MAX seconds (the sysctl's bound at HZ 1 is below it). */
const MAX_KEEPALIVE_MS = 0x7fffffff * 1000;

/** Inputs of the keepalive-path model. */
export interface KeepAliveParams {
  /** TCP_KEEPIDLE, ms. */
  idleMs: number;
  /** TCP_KEEPINTVL, ms. */
  intervalMs: number;
  /** TCP_KEEPCNT, or tcp_keepalive_probes (0 allowed: dead at the first tick); ignored by the kernel when a user timeout is set. */
  count: number;
  /** TCP_USER_TIMEOUT, ms (0: off). */
  userTimeoutMs?: number;
  timerHz?: number;
}

/**
 * Death of an idle connection by keepalive, ms after the last packet from the
 * peer: idle + interval·count; with a user timeout U the count is ignored and
 * the connection dies at the first tick past U with a probe outstanding
 * (idle + max(1, ceil((U - idle) / interval))·interval).
 */
export function keepAliveDeath(p: KeepAliveParams): DeathWindow {
  // tcp_keepalive_time is stored in jiffies: up to INT_MAX / HZ seconds (8589934 s at HZ 250), beyond 2^31 ms.
  const idle = validateNumber('idleMs', p.idleMs, 1, MAX_KEEPALIVE_MS);
  const interval = validateNumber('intervalMs', p.intervalMs, 1, MAX_KEEPALIVE_MS);
  // tcp_keepalive_probes accepts 0 (TCP_KEEPCNT does not): death at the first tick, no probe sent.
  const count = validateNumber('count', p.count, 0, 255, true);
  const u = validateNumber('userTimeoutMs', p.userTimeoutMs ?? 0, 0, 0x7fffffff, true);
  return windowOf({
    interval: (k) => (k === 1 ? idle : interval),
    startElapsed: 0,
    threshold: u > 0 ? u : Infinity,
    clamp: false,
    timeTestFrom: 2,
    countLimit: u > 0 ? Infinity : count,
    countBase: 0,
    hz: p.timerHz,
  });
}

/** Inputs of the connect-path model. */
export interface ConnectParams {
  /** TCP_SYNCNT or tcp_syn_retries. */
  synRetries: number;
  /** tcp_syn_linear_timeouts (0 before 6.5). */
  linearTimeouts: number;
  rtoMaxMs?: number;
  userTimeoutMs?: number;
  timerHz?: number;
}

/**
 * Death of a connect() that gets no answer, ms after the first SYN. Default
 * 6.5+ (6 retries, 4 linear): 131000 (SYNs at 0,1,2,3,4,5,7,11,19,35,67 s);
 * before 6.5: 127000.
 */
export function connectDeath(p: ConnectParams): DeathWindow {
  const n = validateNumber('synRetries', p.synRetries, 1, 255, true);
  const linear = validateNumber('linearTimeouts', p.linearTimeouts, 0, 255, true);
  const rtoMax = validateNumber('rtoMaxMs', p.rtoMaxMs ?? TCP_RTO_MAX_MS, 1, 3_600_000);
  const u = validateNumber('userTimeoutMs', p.userTimeoutMs ?? 0, 0, 0x7fffffff, true);
  const init = TCP_TIMEOUT_INIT_MS;
  return windowOf({
    interval: (k) => (k <= linear + 1 ? init : Math.min(init * 2 ** (k - linear - 1), rtoMax)),
    startElapsed: 0,
    threshold: u > 0 ? u : retriesBudgetMs(n, init, Math.max(rtoMax, init)),
    clamp: u > 0,
    timeTestFrom: 2,
    countLimit: n + linear,
    countBase: 0,
    hz: p.timerHz,
  });
}
