/**
 * The traps in a socket's settings: what makes a vanished peer go unnoticed
 * for a long time (or kills a live one), from computed deadlines and the
 * options as the kernel holds them. Pure; used by `tcp-vitals inspect`.
 */
import { computeDeadlines, DeadlineInfo, DeadlineOptions, Deadlines, DeadlineSettings } from './compute';
import { formatDuration } from './format';

/** Trap codes, stable for --json. */
export type TrapCode = 'slow-while-sending' | 'never-while-idle' | 'keepalive-without-delay'
  | 'user-timeout-ignores-keepcnt' | 'keepalive-probes-zero' | 'user-timeout-below-keepalive';

/** One trap with its explanation. */
export interface Trap {
  code: TrapCode;
  message: string;
}

/** While sending, a detection this late or later is a trap (the kernel default is ~15.6 min). */
export const SLOW_WHILE_SENDING_MS = 15 * 60_000;
/** Keepalive whose first probe waits this long or longer counts as "without a delay" (default tcp_keepalive_time 2 h). */
export const KEEPALIVE_NO_DELAY_MS = 3_600_000;

/** The effective keepalive options a rule reads (ms; as getsockopt reports them, sysctl fallbacks included). */
export type KeepAliveView = Pick<DeadlineOptions, 'keepAlive' | 'keepAliveIdle' | 'keepAliveInterval' | 'keepAliveCount' | 'userTimeout'>;

/**
 * The per-socket rules shared by `inspect` (trapsOf) and the process's
 * misconfiguration warnings (policy/alarms): one place for each. Each takes
 * the options as the kernel holds them.
 */
export const RULES = Object.freeze({
  /** Keepalive on, first probe after an hour or more (the kernel's default tcp_keepalive_time is 2 h). */
  keepAliveWithoutDelay: (o: KeepAliveView): boolean => o.keepAlive === true && (o.keepAliveIdle ?? 0) >= KEEPALIVE_NO_DELAY_MS,
  /** Keepalive on with a probe count of 0 (only tcp_keepalive_probes = 0 gives that: TCP_KEEPCNT cannot be 0). */
  keepAliveProbesZero: (o: KeepAliveView): boolean => o.keepAlive === true && o.keepAliveCount === 0,
  /**
   * Keepalive on and 0 < TCP_USER_TIMEOUT < TCP_KEEPIDLE: at the keepalive
   * timer after the first probe the user timeout has already passed, so the
   * kernel drops the connection at the first unanswered probe, ignoring
   * TCP_KEEPCNT (a peer that answers the probe survives: measured on 6.18).
   */
  userTimeoutBelowKeepAlive: (o: KeepAliveView): boolean => o.keepAlive === true && (o.userTimeout ?? 0) > 0
    && (o.userTimeout ?? 0) < (o.keepAliveIdle ?? 0),
});

/** Plain-words message of each keepalive rule, for a socket's effective options. */
export const RULE_MESSAGES = Object.freeze({
  keepAliveWithoutDelay: (o: KeepAliveView): string => `keepalive on without a delay: the first probe waits ${formatDuration(o.keepAliveIdle ?? 0)} (tcp_keepalive_time)`,
  keepAliveProbesZero: (): string => 'tcp_keepalive_probes = 0: the kernel kills an idle connection at its first keepalive timer, with no probe, even when the peer is alive',
  userTimeoutBelowKeepAlive: (o: KeepAliveView): string => `TCP_USER_TIMEOUT ${formatDuration(o.userTimeout ?? 0)} is shorter than TCP_KEEPIDLE `
    + `${formatDuration(o.keepAliveIdle ?? 0)}: an idle connection is dropped at its first unanswered keepalive probe `
    + `(after ${formatDuration((o.keepAliveIdle ?? 0) + (o.keepAliveInterval ?? 0))}); TCP_KEEPCNT ${o.keepAliveCount ?? '?'} is ignored`,
});

/**
 * The traps of one socket. `options` are the socket's effective options (as
 * getsockopt reports them: keepalive times and count fall back to the
 * namespace's sysctls, so a count of 0 means tcp_keepalive_probes = 0).
 */
export function trapsOf(d: Deadlines, options: DeadlineOptions): Trap[] {
  const traps: Trap[] = [];
  const i = d.inputs;
  if (d.whileSending >= SLOW_WHILE_SENDING_MS) {
    traps.push({ code: 'slow-while-sending', message: `no TCP_USER_TIMEOUT: a vanished peer hangs a sender for ${formatDuration(d.whileSending)}` });
  }
  if (!i.keepAlive) {
    traps.push({ code: 'never-while-idle', message: 'keepalive off: a vanished peer is never noticed while idle' });
  } else {
    const view: KeepAliveView = { keepAlive: true, keepAliveIdle: i.keepAliveIdleMs, keepAliveInterval: i.keepAliveIntervalMs,
      keepAliveCount: options.keepAliveCount, userTimeout: i.userTimeoutMs };
    if (RULES.keepAliveWithoutDelay(view)) traps.push({ code: 'keepalive-without-delay', message: RULE_MESSAGES.keepAliveWithoutDelay(view) });
    if (RULES.keepAliveProbesZero(view)) traps.push({ code: 'keepalive-probes-zero', message: RULE_MESSAGES.keepAliveProbesZero() });
    if (RULES.userTimeoutBelowKeepAlive(view)) {
      traps.push({ code: 'user-timeout-below-keepalive', message: RULE_MESSAGES.userTimeoutBelowKeepAlive(view) });
    }
    const budget = i.keepAliveIdleMs + i.keepAliveIntervalMs * i.keepAliveCount;
    if (i.userTimeoutMs > 0 && i.userTimeoutMs > budget) {
      traps.push({ code: 'user-timeout-ignores-keepcnt', message: `TCP_USER_TIMEOUT ${formatDuration(i.userTimeoutMs)} is longer than the keepalive budget ${formatDuration(budget)}: the kernel ignores TCP_KEEPCNT, idle death moves out to ${formatDuration(d.whileIdle)}` });
    }
  }
  return traps;
}

/** The deadlines and traps of one socket, from the namespace's sysctls and its effective options. */
export interface SocketModel {
  deadlines: Deadlines;
  traps: Trap[];
}

/**
 * computeDeadlines() for a socket read from the outside, plus its traps. A
 * keepalive count of 0 (tcp_keepalive_probes = 0; TCP_KEEPCNT itself cannot
 * be 0) is outside the model's domain: the kernel then kills the connection
 * at its first keepalive timer, `keepAliveIdle` after the last packet, so
 * whileIdle is that idle time.
 */
export function socketModel(settings: DeadlineSettings, options: DeadlineOptions, info?: DeadlineInfo): SocketModel {
  const zeroProbes = options.keepAlive === true && options.keepAliveCount === 0 && !options.userTimeout;
  const modelled = options.keepAliveCount === 0 ? { ...options, keepAliveCount: 1 } : options;
  let deadlines = computeDeadlines({ settings: { ...settings, keepAliveProbes: settings.keepAliveProbes || 1 }, options: modelled, info });
  if (zeroProbes) {
    const idle = deadlines.inputs.keepAliveIdleMs;
    const w = { ms: idle, earliestMs: idle, latestMs: deadlines.windows.whileIdle.latestMs, ambiguous: false, expiry: 1 };
    deadlines = { ...deadlines, whileIdle: idle, windows: { ...deadlines.windows, whileIdle: w },
      inputs: { ...deadlines.inputs, keepAliveCount: 0 } };
  }
  return { deadlines, traps: trapsOf(deadlines, options) };
}
