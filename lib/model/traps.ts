/**
 * The traps in a socket's settings: what makes a vanished peer go unnoticed
 * for a long time (or kills a live one), from computed deadlines and the
 * options as the kernel holds them. Pure; used by `tcp-vitals inspect`.
 */
import { computeDeadlines, DeadlineInfo, DeadlineOptions, Deadlines, DeadlineSettings } from './compute';
import { formatDuration } from './format';

/** Trap codes, stable for --json. */
export type TrapCode = 'slow-while-sending' | 'never-while-idle' | 'keepalive-without-delay'
  | 'user-timeout-ignores-keepcnt' | 'keepalive-probes-zero';

/** One trap with its explanation. */
export interface Trap {
  code: TrapCode;
  message: string;
}

/** While sending, a detection this late or later is a trap (the kernel default is ~15.6 min). */
export const SLOW_WHILE_SENDING_MS = 15 * 60_000;
/** Keepalive whose first probe waits this long or longer counts as "without a delay" (default tcp_keepalive_time 2 h). */
export const KEEPALIVE_NO_DELAY_MS = 3_600_000;

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
    if (i.keepAliveIdleMs >= KEEPALIVE_NO_DELAY_MS) {
      traps.push({ code: 'keepalive-without-delay', message: `keepalive on without a delay: the first probe waits ${formatDuration(i.keepAliveIdleMs)} (tcp_keepalive_time)` });
    }
    if (options.keepAliveCount === 0) {
      traps.push({ code: 'keepalive-probes-zero', message: 'tcp_keepalive_probes = 0: the kernel kills an idle connection at its first keepalive timer, with no probe, even when the peer is alive' });
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
