/**
 * computeDeadlines(): the deadline model of one socket, pure, from sysctls,
 * socket options and (optionally) tcp_info.
 */
import type { SocketOptions } from '../kernel/options';
import type { KernelSettings } from '../kernel/sysctl';
import type { TcpInfo } from '../kernel/tcpinfo';
import { retriesBudgetMs, rtoFloorMs, TCP_RTO_MIN_MS } from './budget';
import { DeathWindow, NEVER, shift } from './death-window';
import { connectDeath, deathAfterFirstRetransmit, firstRetransmitDelay, keepAliveDeath } from './paths';
import { timerLatenessMs } from './timer-slack';
import { ownCopy, validateObject } from '../common/validate';

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
  validateObject('input', input);
  const own = ownCopy(input);
  validateObject('input.settings', own.settings);
  // Own properties only: an inherited key is never an input.
  const s = ownCopy(own.settings);
  const o: DeadlineOptions = own.options === null || typeof own.options !== 'object' ? {} : ownCopy(own.options);
  const info = own.info === null || typeof own.info !== 'object' ? undefined : ownCopy(own.info);
  const rtoMaxMs = o.rtoMax ?? s.rtoMaxMs;
  // Without tcp_info: the namespace's minimum RTO (the real RTO is that plus
  // about one smoothed RTT), in whole jiffies, and never above rto_max.
  const floor = rtoFloorMs(s.rtoMinMs, rtoMaxMs, s.timerHz);
  let baseRtoMs = floor;
  if (info?.rto !== undefined && info.rto > 0) {
    const backoff = info.backoff ?? 0;
    baseRtoMs = Math.min(Math.max(floor, Math.min(info.rto / 1000, rtoMaxMs) / 2 ** backoff), rtoMaxMs);
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
  // tcp_probe0_base = max(RTO, TCP_RTO_MIN), the probe timer capped at rto_max (tcp_probe0_when).
  const probeBase = Math.min(Math.max(inputs.baseRtoMs, TCP_RTO_MIN_MS), inputs.rtoMaxMs);
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
