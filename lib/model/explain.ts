/**
 * Readable explanations of computed deadlines, with the traps spelled out,
 * and the socket-less scenarios of `tcp-vitals doctor`.
 */
import { failFastOptions } from './failfast-settings';
import { TCP_RTO_MAX_MS } from './budget';
import { computeDeadlines, DeadlineOptions, Deadlines, DeadlineSettings } from './compute';
import { formatDuration, windowText } from './format';

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
      ? `: TCP_USER_TIMEOUT ${formatDuration(i.userTimeoutMs)} counted from the first retransmission (one RTO, ${formatDuration(i.baseRtoMs)}, `
        + 'after the lost write, or about two for a lone small segment: its tail-loss probe waits up to an RTO first).'
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
    if (i.keepAliveCount === 0 && i.userTimeoutMs === 0) {
      lines.push(`  Trap: tcp_keepalive_probes = 0 and no TCP_KEEPCNT: the kernel kills the connection at its first keepalive tick, after ${formatDuration(i.keepAliveIdleMs)} of silence, without sending a probe: a live peer that is merely quiet is cut off too. Set keepAliveCount.`);
    }
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
