/**
 * `tcp-vitals doctor`: this network namespace's TCP sysctls, and in plain
 * words how long a dead peer goes unnoticed with the kernel defaults, with
 * Node's setKeepAlive(true, 1000), and with failFast at 10 s.
 */
import { release } from 'node:os';
import { explainSettings, SettingsScenario } from '../model/explain';
import { FAIL_FAST_PROBE_INTERVAL_MS } from '../model/failfast-settings';
import { KernelSettings, kernelSettings, SYSCTL_DIR } from '../kernel/sysctl';
import { printable } from '../common/text';
import { parse } from './args';
import { formatDuration } from './format';

const HELP = `Usage: tcp-vitals doctor [--json]

Reads this machine's TCP settings (the sysctls of this network namespace,
/proc/sys/net/ipv4) and says how long a peer that vanished (host down, cable
cut, pod deleted: no FIN, no RST) goes unnoticed:
  - while your code is sending (writes keep "succeeding" until the kernel gives up),
  - while the connection is idle (only keepalive can notice),
  - while connecting,
with the kernel defaults, with Node's socket.setKeepAlive(true, 1000), and with
tcp-vitals' failFast({ timeout: 10000 }). Flags risky settings.
No root, no server, no network traffic needed. Assumes a LAN path (minimum RTO);
slower paths take longer.

Options:
  --json      one JSON object instead of the report (times in ms; null = never)
  -h, --help  this help

Exit codes: 0 report printed (risky settings or not), 1 the sysctls could not
be read, 2 bad arguments.
`;

/** A setting worth changing, with why. */
export interface Risk {
  /** The sysctl, e.g. 'net.ipv4.tcp_retries2'. */
  setting: string;
  /** Its value, in the sysctl's own unit. */
  value: number;
  /** Plain words: what it costs. */
  message: string;
}

/** The settings doctor flags (pure; exported for tests). */
export function risksOf(s: KernelSettings, scenarios: SettingsScenario[]): Risk[] {
  const risks: Risk[] = [];
  const defaults = scenarios[0].deadlines;
  if (s.retries2 >= 15) {
    risks.push({
      setting: 'net.ipv4.tcp_retries2', value: s.retries2,
      message: `a write to a vanished peer keeps "succeeding" for about ${formatDuration(defaults.whileSending)} before ETIMEDOUT `
        + `(a ${formatDuration(defaults.inputs.retries2BudgetMs)} retransmission budget, from the first retransmission).`,
    });
  } else if (defaults.whileSending > 60_000) {
    risks.push({
      setting: 'net.ipv4.tcp_retries2', value: s.retries2,
      message: `a dead peer is noticed only after ${formatDuration(defaults.whileSending)} of retransmissions.`,
    });
  }
  if (s.keepAliveTimeMs >= 3_600_000) {
    risks.push({
      setting: 'net.ipv4.tcp_keepalive_time', value: s.keepAliveTimeMs / 1000,
      message: `keepalive turned on without a delay (setKeepAlive(true), SO_KEEPALIVE alone) sends its first probe after ${formatDuration(s.keepAliveTimeMs)} of silence.`,
    });
  }
  if (s.keepAliveProbes === 0) {
    risks.push({
      setting: 'net.ipv4.tcp_keepalive_probes', value: 0,
      message: `a connection with keepalive on and no TCP_KEEPCNT of its own is killed (ETIMEDOUT) at its first keepalive tick, after `
        + `${formatDuration(s.keepAliveTimeMs)} of silence (or its TCP_KEEPIDLE), without a probe: a live peer that is just quiet is cut off too.`,
    });
  }
  const probing = s.keepAliveIntervalMs * s.keepAliveProbes;
  if (probing > 60_000) {
    risks.push({
      setting: 'net.ipv4.tcp_keepalive_probes', value: s.keepAliveProbes,
      message: `${s.keepAliveProbes} probes every ${formatDuration(s.keepAliveIntervalMs)} (tcp_keepalive_intvl) add ${formatDuration(probing)} `
        + `before an idle dead connection is dropped (Node's setKeepAlive overrides them with 10 × 1 s).`,
    });
  }
  // TCP_USER_TIMEOUT counts from the first retransmission, one or two RTOs after the lost write: a large
  // RTO (tcp_rto_min, capped at tcp_rto_max) puts failFast's while-sending bound far past its timeout.
  const ff = scenarios.find((sc) => sc.options.userTimeout);
  if (ff && ff.deadlines.whileSending > 2 * (ff.deadlines.inputs.userTimeoutMs + 200)) {
    const rto = ff.deadlines.inputs.baseRtoMs;
    risks.push({
      setting: 'net.ipv4.tcp_rto_min_us', value: Math.round(s.rtoMinMs * 1000),
      message: `the RTO starts at ${formatDuration(rto)} (tcp_rto_min ${formatDuration(s.rtoMinMs)}`
        + `${s.rtoMinMs > s.rtoMaxMs ? `, capped at tcp_rto_max ${formatDuration(s.rtoMaxMs)}` : ''}), and TCP_USER_TIMEOUT counts from the first `
        + `retransmission: ${ff.name} notices a vanished peer while sending only after ${formatDuration(ff.deadlines.whileSending)}.`,
    });
  }
  if (defaults.whileConnecting > 60_000) {
    risks.push({
      setting: 'net.ipv4.tcp_syn_retries', value: s.synRetries,
      message: `connect() to an address that never answers fails after ${formatDuration(defaults.whileConnecting)}.`,
    });
  }
  return risks;
}

function jsonTime(ms: number): number | null {
  return ms === Infinity ? null : Math.round(ms * 10) / 10;
}

/** The doctor's findings as one JSON-ready object (times in ms, null = never). */
export function doctorReport(settings: KernelSettings): object {
  const scenarios = explainSettings(settings);
  return {
    kernel: release(),
    sysctlDir: SYSCTL_DIR,
    settings,
    assumedRtoMs: scenarios[0].deadlines.inputs.baseRtoMs,
    scenarios: scenarios.map((sc) => ({
      name: sc.name,
      options: sc.options,
      whileSendingMs: jsonTime(sc.deadlines.whileSending),
      whileIdleMs: jsonTime(sc.deadlines.whileIdle),
      whileZeroWindowMs: jsonTime(sc.deadlines.whileZeroWindow),
      whileConnectingMs: jsonTime(sc.deadlines.whileConnecting),
      windows: Object.fromEntries(Object.entries(sc.deadlines.windows).map(([k, w]) => [k, {
        ms: jsonTime(w.ms), earliestMs: jsonTime(w.earliestMs), latestMs: jsonTime(w.latestMs), ambiguous: w.ambiguous,
      }])),
      lines: sc.lines,
    })),
    risks: risksOf(settings, scenarios),
  };
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => `  ${r.map((cell, c) => cell.padEnd(widths[c])).join('   ')}`.trimEnd());
}

/** The human report, as lines. */
export function doctorText(settings: KernelSettings): string[] {
  const scenarios = explainSettings(settings);
  const risks = risksOf(settings, scenarios);
  const base = scenarios[0].deadlines.inputs.baseRtoMs;
  const out: string[] = [];
  out.push('tcp-vitals doctor: how long does a dead peer go unnoticed here?');
  out.push(`Kernel ${release()}, this process's network namespace (${SYSCTL_DIR}). Assumes a LAN path: RTO ${formatDuration(base)}.`);
  out.push('');
  out.push('Settings:');
  out.push(`  tcp_retries2 = ${settings.retries2} (a ${formatDuration(scenarios[0].deadlines.inputs.retries2BudgetMs)} retransmission budget)`
    + `, tcp_rto_min = ${formatDuration(settings.rtoMinMs)}, tcp_rto_max = ${formatDuration(settings.rtoMaxMs)}`);
  out.push(`  tcp_keepalive_time = ${settings.keepAliveTimeMs / 1000} s, tcp_keepalive_intvl = ${settings.keepAliveIntervalMs / 1000} s`
    + `, tcp_keepalive_probes = ${settings.keepAliveProbes}`);
  out.push(`  tcp_syn_retries = ${settings.synRetries}${settings.synLinearTimeouts ? ` (first ${settings.synLinearTimeouts} timeouts linear)` : ''}`
    + `${settings.timerHz ? `, timer HZ = ${settings.timerHz}` : ''}${settings.absent.length ? `; not in this kernel: ${settings.absent.join(', ')}` : ''}`);
  out.push('');
  out.push('A peer vanishes (no FIN, no RST). Time until your code gets an error:');
  const rows = [['', 'while sending', 'while idle', 'while connecting']];
  for (const sc of scenarios) {
    rows.push([sc.name, formatDuration(sc.deadlines.whileSending), idleText(sc), formatDuration(sc.deadlines.whileConnecting)]);
  }
  out.push(...table(rows));
  out.push('  ("never": the kernel does not look at an idle connection without keepalive;');
  out.push('   the next write starts the "while sending" clock.)');
  out.push('');
  if (risks.length) {
    out.push('Risky settings:');
    for (const r of risks) out.push(`  ! ${r.setting} = ${r.value}: ${r.message}`);
  } else {
    out.push('No risky settings found.');
  }
  out.push('');
  for (const sc of scenarios) {
    out.push(`${sc.name}:`);
    for (const line of sc.lines) out.push(`  ${line}`);
  }
  out.push('');
  out.push('failFast(socket, { timeout }) bounds every path by the timeout: it sets TCP_USER_TIMEOUT and a keepalive');
  out.push(`schedule (probes every ${FAIL_FAST_PROBE_INTERVAL_MS / 1000} s) from the same number, and its watcher fails the socket once data has gone`);
  out.push('unacknowledged for the timeout, counted from the lost write rather than the first retransmission.');
  return out;
}

function idleText(sc: SettingsScenario): string {
  const d = sc.deadlines;
  if (d.whileIdle === Infinity) return 'never';
  return formatDuration(d.whileIdle);
}

/** Runs `tcp-vitals doctor`; resolves to the exit code (0). */
export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } }, 0);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const settings = kernelSettings({ maxAgeMs: 0 }) as KernelSettings;
  if (values.json) process.stdout.write(`${JSON.stringify(doctorReport(settings), null, 2)}\n`);
  else process.stdout.write(`${doctorText(settings).map(printable).join('\n')}\n`); // the kernel release, a namespace's sysctls: escaped
  return 0;
}
