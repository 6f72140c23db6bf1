/**
 * Retransmit-aware deadlines: how long the kernel lets a dead peer go
 * unnoticed, per path (sending, idle, zero window, connecting), computed from
 * the namespace's sysctls, the socket's options and, when available, its
 * tcp_info. The model functions are pure (no I/O); `deadlines()` and
 * `explain()` are thin wrappers that read a socket.
 *
 * Kernel logic modelled (net/ipv4/tcp_timer.c, see ../shared/linux-tcp.md §3):
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
import { invalidArgType, outOfRange } from './errors';
import { failFastOptions } from './failfast';
import type { Target } from './fd';
import { getOptions, SocketOptions } from './options';
import { KernelSettings, kernelSettings } from './sysctl';
import { TcpInfo, tcpInfo } from './tcpinfo';

/** TCP_RTO_MIN, ms: the kernel's built-in minimum RTO, also the rto_base of the tcp_retries2 budget. */
export const TCP_RTO_MIN_MS = 200;
/** TCP_TIMEOUT_INIT, ms: initial RTO of a SYN, also the rto_base of the SYN budget. */
export const TCP_TIMEOUT_INIT_MS = 1000;
/** TCP_RTO_MAX, ms: built-in ceiling of the RTO. */
export const TCP_RTO_MAX_MS = 120_000;

const MAX_EXPIRIES = 4096;

/**
 * tcp_model_timeout(): the time budget, ms, that `n` retries stand for when
 * the RTO starts at `rtoBase` and doubles up to `rtoMax`.
 * `retriesBudgetMs(15)` = 924600; with rtoMax 1000: 14400.
 */
export function retriesBudgetMs(n: number, rtoBase = TCP_RTO_MIN_MS, rtoMax = TCP_RTO_MAX_MS): number {
  validateNumber('n', n, 0, 255, true);
  validateNumber('rtoBase', rtoBase, 1, 3_600_000);
  validateNumber('rtoMax', rtoMax, rtoBase, 3_600_000);
  const thresh = Math.floor(Math.log2(Math.floor(rtoMax / rtoBase)));
  return n <= thresh
    ? (2 ** (n + 1) - 1) * rtoBase
    : (2 ** (thresh + 1) - 1) * rtoBase + (n - thresh) * rtoMax;
}

function validateNumber(name: string, v: unknown, min: number, max: number, integer = false): number {
  if (typeof v !== 'number') throw invalidArgType(name, 'of type number', v);
  if (Number.isNaN(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw outOfRange(name, `${integer ? 'an integer' : 'a number'} >= ${min} and <= ${max}`, v);
  }
  return v;
}

// ---------------------------------------------------------------- timer slack

/**
 * How late a kernel timer of `intervalMs` may fire, ms. With the timer
 * frequency known (CONFIG_HZ), from the timer wheel: a timer lands in the
 * level whose granularity is 8^level jiffies (level n starts at 63·8^(n-1)
 * jiffies) and fires at the next bucket boundary, so it is up to one bucket
 * (+1 jiffy) late, half a bucket on average. Unknown HZ: at most 1/8 of the
 * interval (the rule of linux-tcp.md §9), typically 1/16.
 */
export function timerLatenessMs(intervalMs: number, hz: number | undefined, kind: 'max' | 'typical'): number {
  if (!(intervalMs > 0)) return 0;
  if (!hz) return kind === 'max' ? intervalMs / 8 : intervalMs / 16;
  const jiffy = 1000 / hz;
  const jiffies = Math.ceil(intervalMs / jiffy);
  let level = 0;
  while (level < 8 && jiffies >= 63 * 8 ** level) level++;
  const bucket = 8 ** level;
  if (kind === 'max') return (bucket + 1) * jiffy;
  return (level === 0 ? 1 : bucket / 2 + 1) * jiffy;
}

// ----------------------------------------------------------------- simulation

/** A sequence of timer expiries and the kernel's death test at each. */
interface ExpiryModel {
  /** Nominal length of the timer ending at expiry k (k = 1, 2, ...), ms. */
  interval(k: number): number;
  /** Length the kernel armed the timer with (for slack), when different from interval(k). */
  timerLength?(k: number): number;
  /** The kernel's elapsed time at the reference point ("now - retrans_stamp"), ms. */
  startElapsed: number;
  /** Dead when elapsed >= threshold (Infinity: no time test). */
  threshold: number;
  /** Timers are clamped to fire when the threshold runs out (TCP_USER_TIMEOUT). */
  clamp: boolean;
  /** First expiry index at which the time test applies. */
  timeTestFrom: number;
  /** Dead at expiry k when k - 1 + countBase >= countLimit (Infinity: no count test). */
  countLimit: number;
  countBase: number;
  hz: number | undefined;
}

interface SimResult { index: number; at: number; byCount: boolean }

type Lateness = 'none' | 'typical' | 'max';

function simulate(m: ExpiryModel, lateness: Lateness, stopAt?: number): SimResult {
  if (m.threshold === Infinity && m.countLimit === Infinity) return { index: Infinity, at: Infinity, byCount: false };
  const jiffy = m.hz ? 1000 / m.hz : 4;
  let elapsed = m.startElapsed;
  let at = 0;
  for (let k = 1; k <= MAX_EXPIRIES; k++) {
    let wait = m.interval(k);
    if (m.clamp) {
      const remaining = m.threshold - elapsed;
      wait = remaining <= 0 ? jiffy : Math.min(wait, remaining);
    }
    const length = Math.max(wait, m.timerLength?.(k) ?? 0);
    const late = lateness === 'none' ? 0 : timerLatenessMs(length, m.hz, lateness);
    at += wait + late;
    elapsed += wait + late;
    if (stopAt !== undefined) {
      if (k >= stopAt) return { index: k, at, byCount: false };
      continue;
    }
    const byCount = k - 1 + m.countBase >= m.countLimit;
    if (byCount || (k >= m.timeTestFrom && elapsed >= m.threshold)) return { index: k, at, byCount };
  }
  return { index: Infinity, at: Infinity, byCount: false };
}

/**
 * When the kernel declares death, ms after a reference point. `ms` is the
 * expected moment (typical timer lateness); the kernel's verdict lands in
 * [earliestMs, latestMs]. `ambiguous` is true when timer slack alone can move
 * the verdict from one expiry to the next (the window then spans both).
 * Infinity everywhere means the kernel never gives up on this path.
 */
export interface DeathWindow {
  /** Expected time of death, ms (Infinity: never). */
  ms: number;
  /** Earliest possible time of death, ms. */
  earliestMs: number;
  /** Latest possible time of death, ms. */
  latestMs: number;
  /** True when the verdict can fall on either of two expiries. */
  ambiguous: boolean;
  /** Index of the fatal timer expiry in the expected case (1 = the first timer after the reference). */
  expiry: number;
}

const NEVER: DeathWindow = Object.freeze({ ms: Infinity, earliestMs: Infinity, latestMs: Infinity, ambiguous: false, expiry: Infinity });

function windowOf(m: ExpiryModel): DeathWindow {
  const nominal = simulate(m, 'none');
  if (nominal.at === Infinity) return NEVER;
  const slow = simulate(m, 'max');
  const typical = simulate(m, 'typical');
  // Earliest: the first expiry that can be fatal (found with maximal lateness), at its nominal time.
  const nominalAtFirstFatal = simulate(m, 'none', slow.index).at;
  const timeFloor = m.threshold === Infinity ? 0 : m.threshold - m.startElapsed;
  const earliestMs = slow.byCount ? nominalAtFirstFatal : Math.max(nominalAtFirstFatal, timeFloor);
  // Latest: the expiry that is fatal even without lateness, fired as late as possible.
  const latestMs = simulate(m, 'max', nominal.index).at;
  const ms = Math.min(latestMs, Math.max(earliestMs, typical.at));
  return { ms, earliestMs, latestMs, ambiguous: slow.index !== nominal.index, expiry: typical.index };
}

function shift(w: DeathWindow, by: { ms: number; earliestMs: number; latestMs: number }): DeathWindow {
  if (w.ms === Infinity) return w;
  return { ...w, ms: w.ms + by.ms, earliestMs: w.earliestMs + by.earliestMs, latestMs: w.latestMs + by.latestMs };
}

// --------------------------------------------------------------- path models

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
  const base = validateNumber('baseRtoMs', p.baseRtoMs, 1, 3_600_000);
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

/** Inputs of the keepalive-path model. */
export interface KeepAliveParams {
  /** TCP_KEEPIDLE, ms. */
  idleMs: number;
  /** TCP_KEEPINTVL, ms. */
  intervalMs: number;
  /** TCP_KEEPCNT (ignored by the kernel when a user timeout is set). */
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
  const idle = validateNumber('idleMs', p.idleMs, 1, 0x7fffffff);
  const interval = validateNumber('intervalMs', p.intervalMs, 1, 0x7fffffff);
  const count = validateNumber('count', p.count, 1, 255, true);
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

// ----------------------------------------------------------- computeDeadlines

/** The socket options the model reads (as returned by getOptions(); times in ms). */
export type DeadlineOptions = Pick<SocketOptions,
  'userTimeout' | 'keepAlive' | 'keepAliveIdle' | 'keepAliveInterval' | 'keepAliveCount' | 'rtoMax' | 'synCount' | 'noDelay'>;

/** The tcp_info fields the model can use (units as in TcpInfo: rto, rtt in µs; ages in ms). */
export type DeadlineInfo = Partial<Pick<TcpInfo,
  'rto' | 'backoff' | 'retransmits' | 'rtt' | 'lastAckRecv' | 'lastDataSent' | 'totalRtoTime' | 'stateNumber'>>;

/** Settings the model needs (a subset of {@link KernelSettings}). */
export type DeadlineSettings = Pick<KernelSettings,
  'retries2' | 'synRetries' | 'synLinearTimeouts' | 'keepAliveTimeMs' | 'keepAliveIntervalMs' | 'keepAliveProbes'
  | 'rtoMinMs' | 'rtoMaxMs'> & { timerHz?: number };

/** Input of {@link computeDeadlines}. */
export interface DeadlineInput {
  /** The namespace's sysctls (kernelSettings()). */
  settings: DeadlineSettings;
  /** The socket's options (getOptions()); unset keepalive times fall back to the sysctls. */
  options?: DeadlineOptions;
  /** A tcp_info snapshot; gives the real base RTO (otherwise the minimum RTO is assumed). */
  info?: DeadlineInfo;
}

/** What the kernel will do with a dead peer on each path. All times ms. */
export interface Deadlines {
  /** From the first unacknowledged send to the kernel's ETIMEDOUT (expected). */
  whileSending: number;
  /** From the last packet received to death by keepalive; Infinity without keepalive. */
  whileIdle: number;
  /** From the peer's window closing (peer alive, not reading) to death; Infinity without a user timeout. */
  whileZeroWindow: number;
  /** From the first SYN to connect()'s ETIMEDOUT. */
  whileConnecting: number;
  /** The same four as windows: [earliestMs, latestMs], `ambiguous` where timer slack can flip the verdict. */
  windows: {
    whileSending: DeathWindow;
    whileIdle: DeathWindow;
    whileZeroWindow: DeathWindow;
    whileConnecting: DeathWindow;
    /** Part of whileSending: from the first RTO retransmission (the kernel's clock start) to death. */
    afterFirstRetransmit: DeathWindow;
  };
  /** The numbers the model used. */
  inputs: {
    baseRtoMs: number;
    rtoMaxMs: number;
    userTimeoutMs: number;
    retries2: number;
    /** tcp_retries2 converted to time (tcp_model_timeout), ms. */
    retries2BudgetMs: number;
    keepAlive: boolean;
    keepAliveIdleMs: number;
    keepAliveIntervalMs: number;
    keepAliveCount: number;
    synRetries: number;
    synLinearTimeouts: number;
    timerHz: number | undefined;
  };
}

function resolveInputs(input: DeadlineInput): Deadlines['inputs'] & { noDelay: boolean | undefined } {
  if (input === null || typeof input !== 'object') throw invalidArgType('input', 'of type object', input);
  const s = input.settings;
  if (s === null || typeof s !== 'object') throw invalidArgType('input.settings', 'of type object', s);
  const o = input.options ?? {};
  const info = input.info;
  const rtoMaxMs = o.rtoMax ?? s.rtoMaxMs;
  // Without tcp_info: the namespace's minimum RTO (the real RTO is that plus about one smoothed RTT).
  let baseRtoMs = s.rtoMinMs;
  if (info?.rto !== undefined && info.rto > 0) {
    const backoff = info.backoff ?? 0;
    baseRtoMs = Math.max(s.rtoMinMs, Math.min(info.rto / 1000, rtoMaxMs) / 2 ** backoff);
  }
  return {
    baseRtoMs,
    rtoMaxMs,
    userTimeoutMs: o.userTimeout ?? 0,
    retries2: s.retries2,
    retries2BudgetMs: retriesBudgetMs(s.retries2, TCP_RTO_MIN_MS, Math.max(rtoMaxMs, TCP_RTO_MIN_MS)),
    keepAlive: o.keepAlive ?? false,
    keepAliveIdleMs: o.keepAliveIdle || s.keepAliveTimeMs,
    keepAliveIntervalMs: o.keepAliveInterval || s.keepAliveIntervalMs,
    keepAliveCount: o.keepAliveCount || s.keepAliveProbes,
    synRetries: o.synCount || s.synRetries,
    synLinearTimeouts: s.synLinearTimeouts,
    timerHz: s.timerHz,
    noDelay: o.noDelay,
  };
}

/**
 * The deadline model, pure: how long each failure goes unnoticed by the
 * kernel, from sysctls + socket options (+ tcp_info for the real RTO).
 */
export function computeDeadlines(input: DeadlineInput): Deadlines {
  const { noDelay, ...inputs } = resolveInputs(input);
  const hz = inputs.timerHz;
  const u = inputs.userTimeoutMs;
  const afterFirstRetransmit = deathAfterFirstRetransmit({
    baseRtoMs: inputs.baseRtoMs, retries2: inputs.retries2, rtoMaxMs: inputs.rtoMaxMs, userTimeoutMs: u, timerHz: hz,
  });
  const whileSending = shift(afterFirstRetransmit, firstRetransmitDelay(inputs.baseRtoMs, noDelay, hz));
  const whileIdle = inputs.keepAlive
    ? keepAliveDeath({
      idleMs: inputs.keepAliveIdleMs, intervalMs: inputs.keepAliveIntervalMs, count: inputs.keepAliveCount,
      userTimeoutMs: u, timerHz: hz,
    })
    : NEVER;
  // Persist timer: first probe one (probe0) RTO after the window closed, then death U after that probe.
  const probeBase = Math.max(inputs.baseRtoMs, TCP_RTO_MIN_MS);
  const whileZeroWindow = u > 0
    ? {
      ms: probeBase + timerLatenessMs(probeBase, hz, 'typical') + u + timerLatenessMs(probeBase, hz, 'typical'),
      earliestMs: probeBase + u,
      latestMs: probeBase + timerLatenessMs(probeBase, hz, 'max') + u + timerLatenessMs(Math.min(u, inputs.rtoMaxMs), hz, 'max'),
      ambiguous: false,
      expiry: 0,
    }
    : NEVER;
  const whileConnecting = connectDeath({
    synRetries: inputs.synRetries, linearTimeouts: inputs.synLinearTimeouts, rtoMaxMs: inputs.rtoMaxMs, userTimeoutMs: u, timerHz: hz,
  });
  return {
    whileSending: whileSending.ms,
    whileIdle: whileIdle.ms,
    whileZeroWindow: whileZeroWindow.ms,
    whileConnecting: whileConnecting.ms,
    windows: { whileSending, whileIdle, whileZeroWindow, whileConnecting, afterFirstRetransmit },
    inputs,
  };
}

// ------------------------------------------------------------- predictGiveUp

/** tcp_info fields of a connection in an RTO episode (units as in TcpInfo). */
export type GiveUpFields = Pick<TcpInfo, 'rto' | 'backoff' | 'retransmits'>
  & Partial<Pick<TcpInfo, 'lastDataSent' | 'lastAckRecv' | 'totalRtoTime'>>;

/** The kernel's expected give-up of a connection retransmitting now, ms from now. */
export interface GiveUpPrediction {
  /** Expected give-up, ms from now (Infinity: never). */
  ms: number;
  earliestMs: number;
  latestMs: number;
  /** Timer slack can move the verdict to another expiry. */
  ambiguous: boolean;
  /** Time since the first retransmission of this episode (the kernel's clock), ms. */
  elapsedMs: number;
  /** What the kernel counts against: the user timeout or the tcp_retries2 budget, ms. */
  budgetMs: number;
  /** Which limit decides. */
  decidedBy: 'userTimeout' | 'retries2';
}

/**
 * For a connection in an RTO episode now (tcpi_retransmits > 0): when the
 * kernel will declare it dead, ms from now; null when not retransmitting.
 * The kernel's clock (time since the first retransmission) comes from
 * `episodeElapsedMs` when the caller measured it (e.g. from the growth of
 * tcpi_total_rto_time, 6.7+), else it is rebuilt from the expiries so far
 * (retransmits, backoff, rto) plus tcpi_last_data_sent (time since the last
 * retransmission).
 */
export function predictGiveUp(
  fields: GiveUpFields,
  settings: DeadlineSettings,
  options: Pick<DeadlineOptions, 'userTimeout' | 'rtoMax'> = {},
  episodeElapsedMs?: number,
): GiveUpPrediction | null {
  if (fields === null || typeof fields !== 'object') throw invalidArgType('fields', 'of type object', fields);
  const retransmits = fields.retransmits;
  if (!(retransmits > 0)) return null;
  const rtoMax = options.rtoMax ?? settings.rtoMaxMs;
  const rtoNow = Math.min(fields.rto / 1000, rtoMax);
  const base = Math.max(settings.rtoMinMs, rtoNow / 2 ** (fields.backoff ?? 0));
  const sinceLast = Math.min(fields.lastDataSent ?? 0, rtoNow);
  const u = options.userTimeout ?? 0;
  const budget = u > 0 ? u : retriesBudgetMs(settings.retries2, TCP_RTO_MIN_MS, Math.max(rtoMax, TCP_RTO_MIN_MS));
  // The kernel's clock: measured by the caller, or rebuilt from the expiries so
  // far, each of which fired somewhere between on time and one bucket late.
  const rebuilt = (lateness: Lateness): number => {
    if (episodeElapsedMs !== undefined) return episodeElapsedMs;
    let e = sinceLast;
    for (let k = 1; k < retransmits; k++) {
      const len = Math.min(base * 2 ** k, rtoMax);
      e += len + (lateness === 'none' ? 0 : timerLatenessMs(len, settings.timerHz, lateness));
    }
    return e;
  };
  const model = (startElapsed: number): ExpiryModel => ({
    interval: (k) => (k === 1 ? Math.max(0, rtoNow - sinceLast) : Math.min(rtoNow * 2 ** (k - 1), rtoMax)),
    timerLength: (k) => (k === 1 ? rtoNow : 0),
    startElapsed,
    threshold: budget,
    clamp: u > 0,
    timeTestFrom: 1,
    countLimit: Infinity,
    countBase: 0,
    hz: settings.timerHz,
  });
  const elapsed = rebuilt('typical');
  const typical = windowOf(model(elapsed));
  const soonest = windowOf(model(rebuilt('max')));
  const slowest = windowOf(model(rebuilt('none')));
  const w = {
    ms: typical.ms,
    earliestMs: Math.min(typical.earliestMs, soonest.earliestMs),
    latestMs: Math.max(typical.latestMs, slowest.latestMs),
    ambiguous: typical.ambiguous || soonest.expiry !== slowest.expiry,
  };
  return {
    ms: w.ms, earliestMs: w.earliestMs, latestMs: w.latestMs, ambiguous: w.ambiguous,
    elapsedMs: elapsed, budgetMs: budget, decidedBy: u > 0 ? 'userTimeout' : 'retries2',
  };
}

// ------------------------------------------------------------ explanations

/** Formats a duration for people: "850 ms", "6.4 s", "15.5 min", "2.0 h", "never". */
export function formatDuration(ms: number): string {
  if (ms === Infinity) return 'never';
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function windowText(w: DeathWindow): string {
  if (w.ms === Infinity) return 'never';
  const range = `${formatDuration(w.earliestMs)} .. ${formatDuration(w.latestMs)}`;
  return w.ambiguous
    ? `${formatDuration(w.ms)} expected (timer slack decides between two expiries: ${range})`
    : `${formatDuration(w.ms)} (${range})`;
}

/** Node 20 / libuv 1.46 socket.setKeepAlive(true, d) sets interval 1 s and count 10 with it. */
export const NODE_KEEPALIVE_INTERVAL_MS = 1000;
/** See {@link NODE_KEEPALIVE_INTERVAL_MS}. */
export const NODE_KEEPALIVE_COUNT = 10;

/**
 * Readable lines for a computed deadline set, including the traps: keepalive
 * without a delay, a user timeout longer or shorter than the keepalive budget,
 * Node's setKeepAlive fixing interval and count, the 15-minute default.
 */
export function explainDeadlines(d: Deadlines): string[] {
  const i = d.inputs;
  const lines: string[] = [];
  const w = d.windows;
  lines.push(`While sending, a vanished peer goes unnoticed for ${windowText(w.whileSending)}`
    + (i.userTimeoutMs > 0
      ? `: TCP_USER_TIMEOUT ${formatDuration(i.userTimeoutMs)} counted from the first retransmission (about one RTO, ${formatDuration(i.baseRtoMs)}, after the lost write).`
      : `: tcp_retries2 = ${i.retries2} is a budget of ${formatDuration(i.retries2BudgetMs)} counted from the first retransmission; the kernel gives up at the first RTO expiry past it (RTO ${formatDuration(i.baseRtoMs)} doubling to ${formatDuration(i.rtoMaxMs)}).`));
  if (i.userTimeoutMs === 0 && i.retries2 >= 15 && i.rtoMaxMs >= TCP_RTO_MAX_MS) {
    lines.push('  Trap: no TCP_USER_TIMEOUT and the default tcp_retries2 = 15: writes keep "succeeding" into the send buffer for about 15.5 minutes.');
  }
  if (!i.keepAlive) {
    lines.push('While idle: never detected (keepalive is off). The next write starts the retransmission clock above.');
  } else {
    const budget = i.keepAliveIdleMs + i.keepAliveIntervalMs * i.keepAliveCount;
    lines.push(`While idle, death by keepalive after ${windowText(w.whileIdle)} without a packet from the peer`
      + (i.userTimeoutMs > 0
        ? ` (idle ${formatDuration(i.keepAliveIdleMs)}, probes every ${formatDuration(i.keepAliveIntervalMs)}; with TCP_USER_TIMEOUT set the kernel ignores TCP_KEEPCNT and kills at the first probe tick past ${formatDuration(i.userTimeoutMs)}).`
        : ` (idle ${formatDuration(i.keepAliveIdleMs)} + ${i.keepAliveCount} probes × ${formatDuration(i.keepAliveIntervalMs)}).`));
    if (i.keepAliveIdleMs >= 7_200_000) {
      lines.push(`  Trap: keepalive is on but the first probe waits ${formatDuration(i.keepAliveIdleMs)} (tcp_keepalive_time; setKeepAlive(true) without a delay keeps it): set keepAliveIdle.`);
    }
    if (i.keepAliveIntervalMs === NODE_KEEPALIVE_INTERVAL_MS && i.keepAliveCount === NODE_KEEPALIVE_COUNT) {
      lines.push('  Note: interval 1 s and count 10 are what Node\'s socket.setKeepAlive(true, delay) sets silently (libuv 1.46): idle death = delay + 10 s, whatever the sysctls say.');
    }
    if (i.userTimeoutMs > 0 && i.userTimeoutMs > budget) {
      lines.push(`  Trap: TCP_USER_TIMEOUT ${formatDuration(i.userTimeoutMs)} is longer than the keepalive budget ${formatDuration(budget)}: the kernel then ignores TCP_KEEPCNT, so idle death moves out to about ${formatDuration(d.whileIdle)}, not ${formatDuration(budget)}.`);
    } else if (i.userTimeoutMs > 0 && i.userTimeoutMs < i.keepAliveIdleMs) {
      lines.push(`  Note: TCP_USER_TIMEOUT ${formatDuration(i.userTimeoutMs)} is shorter than the keepalive idle time: keepalive cannot act before idle + one interval (${formatDuration(i.keepAliveIdleMs + i.keepAliveIntervalMs)}).`);
    }
  }
  lines.push(i.userTimeoutMs > 0
    ? `Peer alive but not reading (zero window): the connection is aborted after ${windowText(w.whileZeroWindow)} of window probing: TCP_USER_TIMEOUT aborts it although the peer answers every probe.`
    : 'Peer alive but not reading (zero window): never aborted by the kernel (window probes are answered).');
  lines.push(`connect() to a silent address gives up after ${windowText(w.whileConnecting)}`
    + (i.userTimeoutMs > 0 ? ' (TCP_USER_TIMEOUT or TCP_SYNCNT, whichever comes first).' : ` (SYN retries ${i.synRetries}${i.synLinearTimeouts ? `, the first ${i.synLinearTimeouts} timeouts linear` : ''}).`));
  if (i.userTimeoutMs > 0 && i.userTimeoutMs < 3 * i.baseRtoMs) {
    lines.push(`  Trap: TCP_USER_TIMEOUT ${formatDuration(i.userTimeoutMs)} is under three RTOs (${formatDuration(i.baseRtoMs)} each): one lost retransmission can kill a live connection.`);
  }
  if (i.timerHz === undefined) lines.push('(Kernel timer frequency unknown: timer slack assumed at up to 1/8 of each interval.)');
  return lines;
}

/** One scenario in {@link explainSettings}. */
export interface SettingsScenario {
  /** e.g. 'kernel defaults', "Node setKeepAlive(true, 1000)", 'failFast 10 s'. */
  name: string;
  /** The options this scenario stands for. */
  options: DeadlineOptions;
  deadlines: Deadlines;
  lines: string[];
}

/**
 * Deadlines without a socket, for `tcp-vitals doctor`: the namespace's
 * sysctls under three scenarios (kernel defaults, Node's setKeepAlive(true,
 * 1000), failFast at 10 s) plus `options` when given, each with numbers and
 * readable lines. Assumes the minimum RTO (a LAN); longer paths die later.
 */
export function explainSettings(settings: DeadlineSettings, options?: DeadlineOptions): SettingsScenario[] {
  const node: DeadlineOptions = {
    keepAlive: true, keepAliveIdle: 1000, keepAliveInterval: NODE_KEEPALIVE_INTERVAL_MS, keepAliveCount: NODE_KEEPALIVE_COUNT,
  };
  const scenarios: Array<[string, DeadlineOptions]> = [
    ['kernel defaults', { keepAlive: false }],
    ['Node socket.setKeepAlive(true, 1000)', node],
    ['failFast(socket, { timeout: 10000 })', failFastOptions(10_000)],
  ];
  if (options) scenarios.push(['your options', options]);
  return scenarios.map(([name, opts]) => {
    const deadlines = computeDeadlines({ settings, options: opts });
    return { name, options: opts, deadlines, lines: explainDeadlines(deadlines) };
  });
}

// --------------------------------------------------------- socket wrappers

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
