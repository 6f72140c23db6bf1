/**
 * `tcp-vitals watch HOST:PORT` / `--listen PORT`: one connection's vitals,
 * live. Exits 1 with the reason when the connection dies.
 */
import * as net from 'node:net';
import { computeDeadlines } from '../model/compute';
import { predictGiveUp } from '../model/give-up';
import { failFast } from '../policy/failfast';
import { getOptions } from '../kernel/options';
import { snapshotOf, TcpSnapshot } from '../model/snapshot';
import { queues } from '../kernel/sockopt';
import { kernelSettings } from '../kernel/sysctl';
import { TCP_STATES, tcpInfo } from '../kernel/tcpinfo';
import { RecoveredEvent, RetransmitEvent, StallEvent, watch, WATCH_EVENTS } from '../policy/watch';
import { durationOption, EXIT_FAILURE, integerOption, parse, UsageError } from './args';
import { formatBytes, formatShortDuration } from './format';
import { printable } from '../common/text';
import { Screen } from './screen';
import { reasonFromSample } from '../model/reason';
export { reasonFromSample };

const HELP = `Usage: tcp-vitals watch HOST:PORT [options]
       tcp-vitals watch --listen PORT [options]

Opens a TCP connection (or accepts the first client on PORT) and shows its
vitals as the kernel sees them: state, rtt, rto, cwnd, retransmissions,
unacknowledged and unsent bytes, when the peer was last heard from, and when
the kernel would give up on it. Redrawn in place on a terminal; one line per
sample otherwise; one JSON object per line with --json. Incoming data is read
and discarded.

Options:
  --listen PORT        accept one client on PORT instead of connecting
  --host ADDR          address to listen on with --listen (default: all)
  --interval DURATION  time between samples (default 1s; 50ms..1h; 500 = 500 ms)
  --count N            exit 0 after N samples
  --timeout DURATION   apply failFast with this timeout (whole seconds, >= 2s);
                       without it you see what the kernel alone does
  --send BYTES         write BYTES bytes every interval (makes traffic to watch)
  --json               one JSON object per sample (snapshot() names, seconds/bytes)
  -h, --help           this help

Exit codes: 0 --count reached, Ctrl-C, or the peer closed the connection (FIN);
1 the connection died (e.g. "connection dead: ETIMEDOUT (retransmit)") or could
not be opened; 2 bad arguments.
`;

/** One JSON line of `watch --json`: snapshot() plus the model's view. */
export interface WatchSample extends TcpSnapshot {
  /** Wall-clock time of the sample (ISO 8601). */
  time: string;
  /** Seconds since watching started. */
  elapsed_seconds: number;
  /** TCP state name ('ESTABLISHED', ...). */
  tcp_state_name: string;
  /** While retransmitting: seconds until the kernel gives up (expected); null otherwise. */
  give_up_in_seconds: number | null;
  /** If the peer vanished now and the application kept sending: seconds until an error (null: never). */
  while_sending_seconds: number | null;
  /** If the peer vanished now and the connection stayed idle: seconds until an error (null: never). */
  while_idle_seconds: number | null;
}

/** Parses "host:port", "[v6]:port" or ":port"/"port" (localhost). */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`expected HOST:PORT (e.g. 127.0.0.1:6379 or [::1]:5432), got '${text}'`);
  }
  return { host: m[1] || m[2] || 'localhost', port };
}

function seconds(ms: number | undefined): number | null {
  return ms === undefined || ms === Infinity || !Number.isFinite(ms) ? null : Math.round(ms) / 1000;
}

/** Takes one sample of `socket` (throws when the socket is gone). */
export function sampleOf(socket: net.Socket, startedAt: number): WatchSample {
  // Each reading once: the snapshot, the prediction and the deadlines share them.
  const info = tcpInfo(socket);
  const snap = snapshotOf(info, queues(socket), socket);
  const options = getOptions(socket);
  const settings = kernelSettings();
  const prediction = predictGiveUp(info, settings, { userTimeout: options.userTimeout, rtoMax: options.rtoMax });
  const d = computeDeadlines({ settings, options, info });
  return {
    time: new Date().toISOString(),
    elapsed_seconds: Math.round(performance.now() - startedAt) / 1000,
    tcp_state_name: TCP_STATES[snap.tcp_state] ?? 'UNKNOWN',
    ...snap,
    give_up_in_seconds: prediction ? seconds(prediction.ms) : null,
    while_sending_seconds: seconds(d.whileSending),
    while_idle_seconds: seconds(d.whileIdle),
  };
}

function ms(s: number): string {
  return s < 0.001 ? `${(s * 1e6).toFixed(0)} µs` : s < 1 ? `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms` : `${s.toFixed(2)} s`;
}

function giveUpText(s: WatchSample): string {
  if (s.give_up_in_seconds !== null) return `kernel gives up in ~${formatShortDuration(s.give_up_in_seconds * 1000)}`;
  if (s.tcp_consecutive_timeouts > 0) return 'kernel never gives up';
  return 'not retransmitting';
}

function ifVanished(s: WatchSample): string {
  const f = (x: number | null) => (x === null ? 'never' : formatShortDuration(x * 1000));
  return `if the peer vanished now: error after ${f(s.while_sending_seconds)} while sending, ${s.while_idle_seconds === null ? 'never (no keepalive)' : f(s.while_idle_seconds)} while idle`;
}

function blockOf(s: WatchSample, title: string): string[] {
  return [
    title,
    `  state ${s.tcp_state_name.padEnd(11)}  rtt ${ms(s.tcp_rtt_seconds)} ± ${ms(s.tcp_rtt_variance_seconds)}   rto ${ms(s.tcp_rto_seconds)}   cwnd ${s.tcp_cwnd_segments}`,
    `  retransmits: now ${s.tcp_consecutive_timeouts} (backoff ${s.tcp_backoff}), total ${s.tcp_retransmits_total}   ${giveUpText(s)}`,
    `  unacknowledged ${formatBytes(s.tcp_unacknowledged_bytes)}   unsent ${formatBytes(s.tcp_unsent_bytes)}`
      + `   userland ${formatBytes(s.tcp_userland_queue_bytes ?? 0)}   unread ${formatBytes(s.tcp_receive_queue_bytes)}`,
    `  last heard from the peer ${formatShortDuration(s.tcp_last_ack_recv_seconds * 1000)} ago`,
    `  ${ifVanished(s)}`,
  ];
}

function lineOf(s: WatchSample): string {
  return `${s.time} ${s.tcp_state_name} rtt ${ms(s.tcp_rtt_seconds)} rto ${ms(s.tcp_rto_seconds)} cwnd ${s.tcp_cwnd_segments}`
    + ` retrans ${s.tcp_consecutive_timeouts}/${s.tcp_retransmits_total} unacked ${s.tcp_unacknowledged_bytes} unsent ${s.tcp_unsent_bytes}`
    + ` heard ${formatShortDuration(s.tcp_last_ack_recv_seconds * 1000)} ago; ${giveUpText(s)}`;
}

/** Runs `tcp-vitals watch`; resolves to the exit code. */
export async function watchCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    listen: { type: 'string' },
    host: { type: 'string' },
    interval: { type: 'string' },
    count: { type: 'string' },
    timeout: { type: 'string' },
    send: { type: 'string' },
    json: { type: 'boolean' },
  }, 1);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const listenPort = integerOption('listen', values.listen, 1, 65535);
  if (listenPort === undefined && positionals.length === 0) throw new UsageError('missing HOST:PORT (or --listen PORT)');
  if (listenPort !== undefined && positionals.length > 0) throw new UsageError('give either HOST:PORT or --listen PORT, not both');
  if (values.host !== undefined && listenPort === undefined) throw new UsageError('--host only applies with --listen');
  const target = positionals.length ? parseHostPort(positionals[0]) : undefined;
  const interval = durationOption('interval', values.interval, 50, 3_600_000) ?? 1000;
  const count = integerOption('count', values.count, 1, Number.MAX_SAFE_INTEGER);
  const timeout = durationOption('timeout', values.timeout, 2000, 3_600_000);
  if (timeout !== undefined && timeout % 1000 !== 0) throw new UsageError(`--timeout must be whole seconds, got '${values.timeout}'`);
  const sendBytes = integerOption('send', values.send, 1, 16 * 1024 * 1024);
  const json = values.json === true;

  const socket = await open(target, listenPort, values.host as string | undefined, json);
  return watchSocket(socket, { interval, count, timeout, sendBytes, json });
}

function open(target: { host: string; port: number } | undefined, listenPort: number | undefined,
  listenHost: string | undefined, json: boolean): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (target) {
      const socket = net.connect(target);
      socket.once('connect', () => { socket.removeListener('error', reject); resolve(socket); });
      socket.once('error', reject);
      return;
    }
    const server = net.createServer({ pauseOnConnect: false }, (socket) => {
      server.close();
      resolve(socket);
    });
    server.maxConnections = 1;
    server.once('error', reject);
    server.listen(listenPort, listenHost, () => {
      const a = server.address() as net.AddressInfo;
      if (!json) process.stderr.write(`${printable(`listening on ${a.address}:${a.port}`)}; waiting for one client\n`);
    });
  });
}

/** One event line of `watch --json` (or a log line on a terminal). */
export function eventRecord(event: string, payload: RetransmitEvent | StallEvent | RecoveredEvent): Record<string, unknown> {
  const base = { event, time: new Date().toISOString() };
  if (event === WATCH_EVENTS.retransmit) {
    const p = payload as RetransmitEvent;
    return { ...base, retransmits: p.retransmits, backoff: p.backoff, rto_seconds: p.rtoMs / 1000,
      give_up_in_seconds: p.giveUp ? seconds(p.giveUp.ms) : null, unacknowledged_bytes: p.unacknowledgedBytes };
  }
  if (event === WATCH_EVENTS.stall) {
    const p = payload as StallEvent;
    return { ...base, since_ack_seconds: p.sinceAckMs / 1000, give_up_in_seconds: p.giveUp ? seconds(p.giveUp.ms) : null,
      unacknowledged_bytes: p.unacknowledgedBytes };
  }
  const p = payload as RecoveredEvent;
  return { ...base, duration_seconds: p.durationMs / 1000, max_retransmits: p.maxRetransmits };
}

function eventText(r: Record<string, unknown>): string {
  const t = String(r.time).slice(11, 23);
  const giveUp = r.give_up_in_seconds === null || r.give_up_in_seconds === undefined
    ? '' : `, kernel gives up in ~${formatShortDuration(Number(r.give_up_in_seconds) * 1000)}`;
  if (r.event === WATCH_EVENTS.retransmit) {
    return `${t} retransmitting: ${r.retransmits} timeout(s), rto ${formatShortDuration(Number(r.rto_seconds) * 1000)}${giveUp}`;
  }
  if (r.event === WATCH_EVENTS.stall) {
    return `${t} stalled: no acknowledgement for ${formatShortDuration(Number(r.since_ack_seconds) * 1000)}, ${r.unacknowledged_bytes} bytes waiting${giveUp}`;
  }
  return `${t} recovered after ${formatShortDuration(Number(r.duration_seconds) * 1000)} (up to ${r.max_retransmits} timeouts)`;
}

interface WatchOptions {
  interval: number;
  count: number | undefined;
  timeout: number | undefined;
  sendBytes: number | undefined;
  json: boolean;
}

function watchSocket(socket: net.Socket, o: WatchOptions): Promise<number> {
  const title = printable(`${socket.localAddress}:${socket.localPort} -> ${socket.remoteAddress}:${socket.remotePort}`
    + `${o.timeout ? `, failFast ${formatShortDuration(o.timeout)}` : ''} (every ${formatShortDuration(o.interval)}; Ctrl-C to stop)`);
  if (o.timeout !== undefined) failFast(socket, { timeout: o.timeout });
  const screen = new Screen(process.stdout, 0);
  const startedAt = performance.now();
  const payload = o.sendBytes ? Buffer.alloc(o.sendBytes, 'x') : undefined;
  let samples = 0;
  let last: WatchSample | undefined;
  // Retransmission episodes, stalls and recoveries as they happen, between samples.
  const watcher = watch(socket, { interval: Math.min(o.interval, 250) });
  const onEvent = (event: string) => (p: RetransmitEvent | StallEvent | RecoveredEvent): void => {
    const record = eventRecord(event, p);
    if (o.json) process.stdout.write(`${JSON.stringify(record)}\n`);
    else screen.log(eventText(record));
  };
  for (const event of [WATCH_EVENTS.retransmit, WATCH_EVENTS.stall, WATCH_EVENTS.recovered]) socket.on(event, onEvent(event));

  return new Promise<number>((resolve) => {
    let finished = false;
    const finish = (code: number, message?: string): void => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      watcher.stop();
      process.removeListener('SIGINT', onSigint);
      screen.release();
      if (message) process.stderr.write(`${printable(message)}\n`);
      socket.destroy();
      resolve(code);
    };
    const onSigint = (): void => finish(0);
    process.once('SIGINT', onSigint);

    const tick = (): void => {
      if (finished || socket.destroyed) return;
      let s: WatchSample;
      try {
        s = sampleOf(socket, startedAt);
      } catch {
        return; // the socket is going away; 'error'/'close' tells why
      }
      samples++;
      last = s;
      if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else if (screen.isTTY) screen.draw(blockOf(s, title));
      else process.stdout.write(`${lineOf(s)}\n`);
      if (o.count !== undefined && samples >= o.count) {
        finish(0);
        return;
      }
      if (payload && socket.writable) socket.write(payload);
    };
    if (!o.json && !screen.isTTY) process.stdout.write(`${title}\n`);
    const timer = setInterval(tick, o.interval);
    tick();

    socket.on('data', () => { /* read and discard */ });
    socket.on('error', (err: NodeJS.ErrnoException & { reason?: string; unacknowledgedBytes?: number }) => {
      // Without failFast the kernel's ETIMEDOUT carries no reason: take it from the last sample.
      if (!err.reason && err.code === 'ETIMEDOUT') err.reason = reasonFromSample(last);
      const reason = err.reason ? ` (${err.reason})` : '';
      const lost = err.unacknowledgedBytes !== undefined ? `, ${err.unacknowledgedBytes} bytes unacknowledged` : '';
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ event: 'dead', code: err.code ?? null, reason: err.reason ?? null,
          unacknowledged_bytes: err.unacknowledgedBytes ?? null, message: err.message })}\n`);
      }
      finish(EXIT_FAILURE, `connection dead: ${err.code ?? err.message}${reason}${lost}`);
    });
    socket.on('end', () => {
      if (o.json) process.stdout.write(`${JSON.stringify({ event: 'end' })}\n`);
      finish(0, 'connection closed by the peer (FIN)');
    });
    socket.on('close', () => finish(EXIT_FAILURE, 'connection closed'));
  });
}
