/** `tcp-vitals inspect` as text: connections grouped by peer, one summary line per group. */
import type { SocketAddress } from '../kernel/pidfd';
import { formatDuration } from '../model/format';
import type { InspectedConnection, ProcessInspection } from '../readings/inspect';
import { formatShortDuration } from './format';

function addr(a: SocketAddress | null): string {
  if (!a) return '-';
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** The group a connection is listed under: its peer, or for accepted connections the local listener. */
export function groupKey(c: InspectedConnection): string {
  return c.direction === 'accepted' ? `clients of ${addr(c.local)}` : `to ${addr(c.peer)}`;
}

function seconds(ms: number): string {
  return formatShortDuration(ms);
}

function optionsText(c: InspectedConnection): string {
  const o = c.options;
  const ka = o.keepAlive
    ? `keepalive on (idle ${formatDuration(o.keepAliveIdle)}, interval ${formatDuration(o.keepAliveInterval)}, count ${o.keepAliveCount})`
    : 'keepalive off';
  const ut = o.userTimeout > 0 ? `TCP_USER_TIMEOUT ${formatDuration(o.userTimeout)}` : 'no TCP_USER_TIMEOUT';
  return `${ka}, ${ut}, SYN count ${o.synCount}`;
}

function never(ms: number | null): string {
  return ms === null ? 'never' : formatDuration(ms);
}

/** The lines of one connection. */
export function connectionLines(c: InspectedConnection): string[] {
  const d = c.diagnosis;
  return [
    `  fd ${c.fd}  ${addr(c.local)} -> ${addr(c.peer)}  ${c.state}  rtt ${(c.rttMs).toFixed(2)} ms`
      + `  unacked ${c.unacknowledgedBytes} B  unsent ${c.unsentBytes} B  recv-q ${c.receiveQueueBytes} B`
      + `  retrans ${c.retransmits} now/${c.retransmitsTotal} total  heard ${c.state === 'SYN_SENT' ? 'nothing yet' : `${seconds(c.lastHeardMs)} ago`}`,
    `      ${optionsText(c)}`,
    `      a vanished peer is noticed after ${never(c.detection.whileSendingMs)} while sending, ${never(c.detection.whileIdleMs)} while idle`,
    ...c.traps.map((t) => `      ! ${t.message}`),
    `      ${d.verdict}: ${d.evidence}`,
  ];
}

/** The one-line summary of a group of connections. */
export function summaryLine(group: InspectedConnection[]): string {
  const n = group.length;
  const c0 = group[0];
  const what = c0.direction === 'accepted'
    ? `client connection${n === 1 ? '' : 's'} on ${addr(c0.local)}` : `connection${n === 1 ? '' : 's'} to ${addr(c0.peer)}`;
  const slow = group.filter((c) => c.traps.some((t) => t.code === 'slow-while-sending'));
  const parts: string[] = [];
  if (slow.length > 0) {
    const worst = Math.max(...slow.map((c) => c.detection.whileSendingMs ?? Infinity));
    parts.push(`${slow.length} of ${n} ${what} ${slow.length === 1 ? 'has' : 'have'} no TCP_USER_TIMEOUT: a vanished host hangs ${slow.length === 1 ? 'it' : 'them'} for ${formatDuration(worst)}`);
  } else {
    const worst = Math.max(...group.map((c) => c.detection.whileSendingMs ?? Infinity));
    parts.push(`all ${n} ${what} notice a vanished host within ${formatDuration(worst)} while sending`);
  }
  const idle = group.filter((c) => c.detection.whileIdleMs === null).length;
  if (idle > 0) parts.push(`${idle} never notice${idle === 1 ? 's' : ''} it while idle`);
  const verdicts = new Map<string, number>();
  for (const c of group) verdicts.set(c.diagnosis.verdict, (verdicts.get(c.diagnosis.verdict) ?? 0) + 1);
  parts.push([...verdicts].map(([v, k]) => `${k} ${v}`).join(', '));
  return parts.join('; ');
}

/** Groups connections by {@link groupKey}, biggest group first, then by key. */
export function groupsOf(connections: InspectedConnection[]): Array<[string, InspectedConnection[]]> {
  const groups = new Map<string, InspectedConnection[]>();
  for (const c of connections) {
    const key = groupKey(c);
    const g = groups.get(key);
    if (g) g.push(c); else groups.set(key, [c]);
  }
  return [...groups].sort((x, y) => y[1].length - x[1].length || (x[0] < y[0] ? -1 : 1));
}

/** The report of one process. */
export function processLines(p: ProcessInspection): string[] {
  const s = p.settings;
  const lines = [
    `pid ${p.pid} (${p.command}): ${p.connections.length} TCP connection${p.connections.length === 1 ? '' : 's'}, `
      + `${p.listening.length} listening${p.listening.length ? ` (${p.listening.map((l) => addr(l.local)).join(', ')})` : ''}; `
      + `sysctls of ${p.sameNetns ? 'this' : 'its own'} network namespace: tcp_retries2 ${s.retries2}, `
      + `keepalive ${s.keepAliveTimeMs / 1000}/${s.keepAliveIntervalMs / 1000}/${s.keepAliveProbes}`,
  ];
  for (const [key, group] of groupsOf(p.connections)) {
    lines.push('', `${key}: ${summaryLine(group)}`);
    for (const c of group) lines.push(...connectionLines(c));
  }
  return lines;
}
