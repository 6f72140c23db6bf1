/**
 * The `tcp-vitals` command, run as a real process (node dist/cli/index.js, built by
 * `npm run build`): doctor, argument errors, --help, watch against real
 * sockets, and (root) watch and demo against a peer that vanishes.
 */
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { computeDeadlines, DeadlineOptions, explainSettings } from '../lib/model';
import { KernelSettings, readKernelSettings } from '../lib/kernel/sysctl';
import { doctorReport, doctorText, risksOf } from '../lib/cli/doctor';
import { parseHostPort } from '../lib/cli/watch';
import { durationOption } from '../lib/cli/args';
import { ADDR_B, describeNetns, fixture, NetPair } from './helpers/netns';
import { runCliAs } from './helpers/as-user';

const CLI = join(__dirname, '..', 'dist', 'cli', 'index.js');

interface Run { code: number | null; signal: string | null; stdout: string; stderr: string; ms: number; pid: number | undefined }

/** Runs the CLI (optionally inside a namespace), bounded by `timeoutMs`. */
function runCli(args: string[], opts: { ns?: string; timeoutMs?: number; onStdout?: (chunk: string, all: string) => void } = {}): Promise<Run> {
  const argv = [process.execPath, CLI, ...args]; // as another user: helpers/as-user.ts runCliAs
  const [cmd, ...rest] = opts.ns ? ['ip', 'netns', 'exec', opts.ns, ...argv] : argv;
  const child = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  const t0 = Date.now();
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; opts.onStdout?.(String(d), stdout); });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, pid: child.pid });
    });
  });
}

function jsonLines(text: string): any[] {
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

describe('tcp-vitals doctor', () => {
  test('prints a report with this namespace\'s settings and the three scenarios', async () => {
    const r = await runCli(['doctor']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = readKernelSettings();
    expect(r.stdout).toContain(`tcp_retries2 = ${s.retries2}`);
    expect(r.stdout).toContain(`tcp_keepalive_time = ${s.keepAliveTimeMs / 1000} s`);
    expect(r.stdout).toMatch(/while sending\s+while idle\s+while connecting/);
    expect(r.stdout).toMatch(/kernel defaults\s+\S/);
    expect(r.stdout).toContain('Node socket.setKeepAlive(true, 1000)');
    expect(r.stdout).toContain('failFast(socket, { timeout: 10000 })');
  });

  test('--json parses and its numbers are computeDeadlines() of the sysctls', async () => {
    const r = await runCli(['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const settings = readKernelSettings();
    expect(report.settings.retries2).toBe(settings.retries2);
    expect(report.settings.keepAliveTimeMs).toBe(settings.keepAliveTimeMs);
    expect(report.scenarios.map((s: any) => s.name)).toEqual([
      'kernel defaults', 'Node socket.setKeepAlive(true, 1000)', 'failFast(socket, { timeout: 10000 })',
    ]);
    const never = (ms: number) => (ms === Infinity ? null : ms);
    for (const sc of report.scenarios) {
      const d = computeDeadlines({ settings, options: sc.options as DeadlineOptions });
      for (const key of ['whileSending', 'whileIdle', 'whileZeroWindow', 'whileConnecting'] as const) {
        const expected = never(d[key]);
        if (expected === null) expect(sc[`${key}Ms`]).toBeNull();
        else expect(sc[`${key}Ms`]).toBeCloseTo(expected, 0);
      }
      expect(Array.isArray(sc.lines) && sc.lines.length).toBeTruthy();
    }
    const [defaults, node, fast] = report.scenarios;
    expect(defaults.whileIdleMs).toBeNull(); // no keepalive by default
    expect(node.whileIdleMs).toBeGreaterThan(11_000 - 1); // 1 s idle + 10 x 1 s (libuv)
    expect(node.whileIdleMs).toBeLessThan(12_000);
    expect(fast.whileSendingMs).toBeLessThan(11_000);
    expect(fast.whileIdleMs).toBeLessThan(11_000);
    if (settings.retries2 >= 15) {
      expect(report.risks.map((x: any) => x.setting)).toContain('net.ipv4.tcp_retries2');
      expect(defaults.whileSendingMs).toBeGreaterThan(900_000);
    }
  });
});

describe('doctor risk rules (pure)', () => {
  const base: KernelSettings = {
    retries1: 3, retries2: 15, synRetries: 6, synLinearTimeouts: 4, keepAliveTimeMs: 7_200_000, keepAliveIntervalMs: 75_000,
    keepAliveProbes: 9, rtoMinMs: 200, rtoMaxMs: 120_000, orphanRetries: 0, finTimeoutMs: 60_000, timerHz: 250, absent: [],
  };
  const flagged = (s: KernelSettings) => risksOf(s, explainSettings(s)).map((r) => r.setting);

  test('Linux defaults: every knob in the issue is flagged', () => {
    expect(flagged(base)).toEqual(['net.ipv4.tcp_retries2', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_keepalive_probes', 'net.ipv4.tcp_syn_retries']);
  });

  test('tuned settings: nothing flagged; a middle tcp_retries2 is flagged by its time, not its value', () => {
    const tuned = { ...base, retries2: 5, keepAliveTimeMs: 60_000, keepAliveIntervalMs: 10_000, keepAliveProbes: 3, synRetries: 2 };
    expect(flagged(tuned)).toEqual([]);
    const r = risksOf({ ...tuned, retries2: 8 }, explainSettings({ ...tuned, retries2: 8 }));
    expect(r.map((x) => x.setting)).toEqual(['net.ipv4.tcp_retries2']); // budget 102.2 s
    expect(r[0].message).toMatch(/only after 1\.\d min/);
  });
});

describe('doctor under sysctls the kernel accepts (pure)', () => {
  const base: KernelSettings = {
    retries1: 3, retries2: 5, synRetries: 2, synLinearTimeouts: 4, keepAliveTimeMs: 60_000, keepAliveIntervalMs: 10_000,
    keepAliveProbes: 3, rtoMinMs: 200, rtoMaxMs: 120_000, orphanRetries: 0, finTimeoutMs: 60_000, timerHz: 250, absent: [],
  };
  test.each([
    ['tcp_rto_min_us = 500', { rtoMinMs: 0.5 }],
    ['tcp_keepalive_probes = 0', { keepAliveProbes: 0 }],
    ['tcp_keepalive_time = 3000000 s', { keepAliveTimeMs: 3_000_000_000 }],
    ['tcp_rto_min_us = 5 s > tcp_rto_max_ms = 1000', { rtoMinMs: 5000, rtoMaxMs: 1000 }],
  ])('%s: the report is made', (_name, change) => {
    const s = { ...base, ...change };
    expect(() => doctorText(s)).not.toThrow();
    expect(() => doctorReport(s)).not.toThrow();
  });

  test('tcp_keepalive_probes = 0 is flagged: idle keepalive connections to live peers die at the first probe', () => {
    const risks = risksOf({ ...base, keepAliveProbes: 0 }, explainSettings({ ...base, keepAliveProbes: 0 }));
    const r = risks.find((x) => x.setting === 'net.ipv4.tcp_keepalive_probes');
    expect(r).toMatchObject({ value: 0, message: expect.stringMatching(/live peer/) });
  });

  test('tcp_rto_min above tcp_rto_max: the RTO is capped at tcp_rto_max, as the kernel does', () => {
    const s = { ...base, retries2: 15, rtoMinMs: 5000, rtoMaxMs: 1000 };
    const [defaults] = explainSettings(s);
    expect(defaults.deadlines.inputs.baseRtoMs).toBe(1000);
    // retries2 15 with rto_max 1 s: a 14.4 s budget of 1 s expiries, not hours.
    expect(defaults.deadlines.whileSending).toBeGreaterThan(14_400);
    expect(defaults.deadlines.whileSending).toBeLessThan(20_000);
  });
});

describe('argument helpers (pure)', () => {
  test('parseHostPort', () => {
    expect(parseHostPort('127.0.0.1:6379')).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(parseHostPort('[::1]:5432')).toEqual({ host: '::1', port: 5432 });
    expect(parseHostPort('db.internal:5432')).toEqual({ host: 'db.internal', port: 5432 });
    expect(parseHostPort(':80')).toEqual({ host: 'localhost', port: 80 });
    for (const bad of ['host', 'host:0', 'host:65536', '::1:80', 'a:b']) expect(() => parseHostPort(bad)).toThrow(/expected HOST:PORT/);
  });

  test('durationOption', () => {
    expect(durationOption('x', '500', 0, 10_000)).toBe(500);
    expect(durationOption('x', '1.5s', 0, 10_000)).toBe(1500);
    expect(durationOption('x', '250ms', 0, 10_000)).toBe(250);
    expect(durationOption('x', '1m', 0, 120_000)).toBe(60_000);
    expect(durationOption('x', undefined, 0, 10)).toBeUndefined();
    for (const bad of ['', 's', '-1', '1h', '2 s', '20000']) expect(() => durationOption('x', bad, 0, 10_000)).toThrow(/--x must be a duration/);
  });
});

describe('arguments', () => {
  test.each([
    [[]],
    [['frobnicate']],
    [['doctor', '--frobnicate']],
    [['doctor', 'extra']],
    [['watch']],
    [['watch', 'localhost']],
    [['watch', 'localhost:99999']],
    [['watch', '127.0.0.1:80', '--interval', 'soon']],
    [['watch', '127.0.0.1:80', '--interval']],
    [['watch', '127.0.0.1:80', '--count', '-1']],
    [['watch', '127.0.0.1:80', '--timeout', '1500']],
    [['watch', '127.0.0.1:80', '--listen', '80']],
    [['watch', '--listen', 'x']],
    [['watch', '127.0.0.1:80', '127.0.0.1:81']],
    [['demo', '--duration', '1s']],
    [['demo', '--timeout', '1500']],
    [['demo', '--bogus']],
  ])('%j: one line on stderr, exit 2', async (args) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tcp-vitals( \w+)?: \S/);
  });

  test.each([['doctor'], ['watch'], ['demo']])('%s --help and -h print its usage, exit 0', async (cmd) => {
    for (const flag of ['--help', '-h']) {
      const r = await runCli([cmd, flag]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^Usage: tcp-vitals ${cmd}`));
      expect(r.stdout).toContain('Exit codes');
    }
  });

  test('tcp-vitals --version prints the package version, exit 0', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag]);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  test('tcp-vitals --help lists the commands', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['doctor', 'watch', 'demo']) expect(r.stdout).toContain(cmd);
  });
});

describe('tcp-vitals watch on loopback', () => {
  let server: net.Server;
  let port = 0;
  let received = 0;
  beforeAll(async () => {
    server = net.createServer((s) => { s.on('data', (d) => { received += d.length; }); s.on('error', () => {}); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('--json --count 3 prints three samples with plausible fields and exits 0', async () => {
    const r = await runCli(['watch', `127.0.0.1:${port}`, '--json', '--count', '3', '--interval', '100', '--send', '1000']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(3);
    for (const s of lines) {
      expect(s.tcp_state_name).toBe('ESTABLISHED');
      expect(s.tcp_state).toBe(1);
      expect(s.tcp_rtt_seconds).toBeGreaterThan(0);
      expect(s.tcp_rtt_seconds).toBeLessThan(1);
      expect(s.tcp_rto_seconds).toBeGreaterThanOrEqual(0.2);
      expect(s.tcp_cwnd_segments).toBeGreaterThanOrEqual(1);
      expect(s.tcp_unacknowledged_bytes).toBeGreaterThanOrEqual(0);
      expect(s.tcp_unsent_bytes).toBeGreaterThanOrEqual(0);
      // 0 on a loss-free loopback; a busy machine's backlog drop makes a real RTO, counted in the total too.
      expect(s.tcp_consecutive_timeouts).toBeLessThanOrEqual(s.tcp_retransmits_total);
      expect(s.give_up_in_seconds).toBeNull();
      expect(s.while_sending_seconds).toBeGreaterThan(0);
      expect(Number.isNaN(Date.parse(s.time))).toBe(false);
    }
    expect(lines[1].elapsed_seconds).toBeGreaterThan(lines[0].elapsed_seconds);
    // two writes of 1000 bytes went out between the samples and were acknowledged
    expect(lines[2].tcp_bytes_acked_total).toBeGreaterThanOrEqual(2001);
    expect(received).toBeGreaterThanOrEqual(2000);
  });

  test('plain output: a title line and one line per sample', async () => {
    const r = await runCli(['watch', `127.0.0.1:${port}`, '--count', '2', '--interval', '50']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(`-> 127.0.0.1:${port}`);
    expect(lines[1]).toMatch(/ESTABLISHED rtt .* cwnd \d+ retrans 0\/\d+ unacked \d+ unsent \d+/);
  });

  test('--listen PORT watches the first client', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const listenPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    let client: net.Socket | undefined;
    const run = runCli(['watch', '--listen', String(listenPort), '--host', '127.0.0.1', '--json', '--count', '2', '--interval', '100'], {
      onStdout: () => {},
    });
    for (let i = 0; i < 100 && !client; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const c = net.connect(listenPort, '127.0.0.1');
      const ok = await new Promise<boolean>((r) => { c.once('connect', () => r(true)); c.once('error', () => r(false)); });
      if (ok) client = c;
    }
    expect(client).toBeDefined();
    const r = await run;
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(2);
    expect(lines[0].tcp_state_name).toBe('ESTABLISHED');
    client?.destroy();
  });

  test('connection refused: one line, exit 1', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const r = await runCli(['watch', `127.0.0.1:${closedPort}`]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual([`tcp-vitals watch: connect ECONNREFUSED 127.0.0.1:${closedPort}`]);
  });

  test('stdout closing (watch | head -1) ends it quietly with exit 0', async () => {
    for (const json of [[], ['--json']]) {
      const cmd = `"$0" "$1" watch 127.0.0.1:${port} --interval 50 ${json.join(' ')} | head -1 >/dev/null; echo "status=\${PIPESTATUS[0]}" >&2`;
      const child = spawn('bash', ['-c', cmd, process.execPath, CLI], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => { stderr += d; });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await new Promise((r) => child.on('close', r));
      clearTimeout(timer);
      expect(stderr).toBe('status=0\n');
    }
  });

  test('the peer closing (FIN) ends the watch with exit 0', async () => {
    const closer = net.createServer((s) => setTimeout(() => s.end(), 300));
    await new Promise<void>((r) => closer.listen(0, '127.0.0.1', r));
    const p = (closer.address() as net.AddressInfo).port;
    const r = await runCli(['watch', `127.0.0.1:${p}`, '--json', '--interval', '100']);
    await new Promise<void>((res) => closer.close(() => res()));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('connection closed by the peer (FIN)');
    expect(jsonLines(r.stdout).pop()).toEqual({ event: 'end' });
  });
});

describeNetns('tcp-vitals in network namespaces', () => {
  let pair: NetPair;
  beforeAll(async () => {
    pair = NetPair.create();
    const peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, '7000']);
    await peer.waitFor((m) => m.type === 'listening', 10_000);
  });
  afterAll(() => pair?.destroy());

  test('doctor reads the namespace\'s own sysctls', async () => {
    const ns = NetPair.create();
    try {
      ns.sysctl(ns.a, 'net.ipv4.tcp_retries2', 5);
      ns.sysctl(ns.a, 'net.ipv4.tcp_keepalive_time', 60);
      ns.sysctl(ns.a, 'net.ipv4.tcp_keepalive_probes', 3);
      ns.sysctl(ns.a, 'net.ipv4.tcp_keepalive_intvl', 10);
      const r = await runCli(['doctor', '--json'], { ns: ns.a });
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.settings).toMatchObject({ retries2: 5, keepAliveTimeMs: 60_000, keepAliveProbes: 3, keepAliveIntervalMs: 10_000 });
      // tcp_retries2 = 5: a 12.6 s budget, far from 15 minutes
      expect(report.scenarios[0].whileSendingMs).toBeGreaterThan(12_600);
      expect(report.scenarios[0].whileSendingMs).toBeLessThan(30_000);
      const flagged = report.risks.map((x: any) => x.setting);
      expect(flagged).not.toContain('net.ipv4.tcp_retries2');
      expect(flagged).not.toContain('net.ipv4.tcp_keepalive_time');
      expect(flagged).not.toContain('net.ipv4.tcp_keepalive_probes');
      const text = await runCli(['doctor'], { ns: ns.a });
      expect(text.stdout).toContain('tcp_retries2 = 5');
    } finally {
      ns.destroy();
    }
  });

  test('watch --timeout: exits 1 with "connection dead: ETIMEDOUT (retransmit)" once the peer vanishes', async () => {
    let vanishedAt = 0;
    const run = runCli(['watch', `${ADDR_B}:7000`, '--json', '--interval', '200', '--timeout', '2s', '--send', '100'], {
      ns: pair.a, timeoutMs: 20_000,
      onStdout: (_chunk, all) => {
        if (!vanishedAt && jsonLines(all.slice(0, all.lastIndexOf('\n') + 1)).length >= 2) {
          pair.vanish();
          vanishedAt = Date.now();
        }
      },
    });
    const r = await run;
    const exitedAfter = Date.now() - vanishedAt;
    pair.heal();
    expect(vanishedAt).toBeGreaterThan(0);
    // failFast's bound (timeout + about one RTO) plus this process noticing the exit; generous on a busy machine.
    expect(exitedAfter).toBeLessThanOrEqual(2000 + 3000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^connection dead: ETIMEDOUT \(retransmit\), \d+ bytes unacknowledged\n$/);
    const lines = jsonLines(r.stdout);
    expect(lines.pop()).toMatchObject({ event: 'dead', code: 'ETIMEDOUT', reason: 'retransmit' });
    expect(lines.some((s) => s.tcp_unacknowledged_bytes > 0)).toBe(true);
  }, 30_000);

  test('watch without failFast reports the kernel\'s own ETIMEDOUT (tcp_retries2 = 3) and predicts it', async () => {
    const ns = NetPair.create();
    try {
      const peer = ns.spawnNode(ns.b, fixture('echo-peer.js'), [ADDR_B, '7000']);
      await peer.waitFor((m) => m.type === 'listening', 10_000);
      ns.sysctl(ns.a, 'net.ipv4.tcp_retries2', 3);
      let vanished = false;
      const r = await runCli(['watch', `${ADDR_B}:7000`, '--json', '--interval', '250', '--send', '100'], {
        ns: ns.a, timeoutMs: 30_000,
        onStdout: (_chunk, all) => {
          if (!vanished && all.split('\n').length > 2) {
            vanished = true;
            ns.vanish();
          }
        },
      });
      expect(r.code).toBe(1);
      // the kernel's error has no reason; watch takes it from the last sample
      expect(r.stderr).toMatch(/^connection dead: ETIMEDOUT \(retransmit\)\n$/);
      const lines = jsonLines(r.stdout);
      expect(lines.pop()).toMatchObject({ event: 'dead', code: 'ETIMEDOUT', reason: 'retransmit' });
      const events = lines.filter((l) => l.event === 'tcp-vitals:retransmit');
      expect(events.length).toBeGreaterThan(0);
      expect(events[0].give_up_in_seconds).toBeGreaterThan(0);
      expect(lines.some((l) => l.event === 'tcp-vitals:stall')).toBe(true);
      const retransmitting = lines.filter((s) => s.tcp_consecutive_timeouts > 0);
      expect(retransmitting.length).toBeGreaterThan(0);
      for (const s of retransmitting) {
        expect(s.give_up_in_seconds).not.toBeNull();
        expect(s.give_up_in_seconds).toBeLessThan(10);
      }
    } finally {
      ns.destroy();
    }
  }, 40_000);

  test('demo: plain Node still waiting, failFast reports the vanished peer; namespaces removed', async () => {
    const r = await runCli(['demo'], { timeoutMs: 40_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('peer vanished at');
    expect(r.stdout).toMatch(/failFast reported the dead peer [\d.]+ s after it vanished \(timeout 5\.0 s\)/);
    expect(r.stdout).toMatch(/plain Node has seen no error: \d+ writes "succeeded"/);
    const detectedAfter = Number(/DEAD at [\d.]+ s \(([\d.]+) s after the vanish\)/.exec(r.stdout)?.[1]);
    expect(detectedAfter).toBeGreaterThanOrEqual(5);
    expect(detectedAfter).toBeLessThanOrEqual(6);
    // Only this run's namespaces: other demos (another checkout's tests) may be running on the machine.
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`tvdemo-${r.pid}-`);
  }, 60_000);

  test('demo: SIGINT, SIGTERM or SIGHUP at any early moment leaves no namespace behind', async () => {
    const pids: number[] = [];
    const leftover = (pid: number) => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`tvdemo-${pid}-`));
    const results: Array<{ signal: string; delayMs: number; left: string[] }> = [];
    try {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        for (const delayMs of [40, 80, 120, 160, 220, 320, 600]) {
          const child = spawn(process.execPath, [CLI, 'demo'], { stdio: ['ignore', 'ignore', 'ignore'] });
          pids.push(child.pid!);
          const closed = new Promise((r) => child.on('close', r));
          await new Promise((r) => setTimeout(r, delayMs));
          child.kill(signal);
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await closed;
          clearTimeout(timer);
          results.push({ signal, delayMs, left: leftover(child.pid!) });
        }
      }
    } finally {
      for (const pid of pids) for (const ns of leftover(pid)) execFileSync('ip', ['netns', 'delete', ns]);
    }
    expect(results.filter((r) => r.left.length > 0)).toEqual([]);
  }, 120_000);

  test('demo: Ctrl-C deletes the namespaces; without root it refuses with one line, exit 2', async () => {
    const child = spawn(process.execPath, [CLI, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    for (let i = 0; i < 100 && !out.includes('t = '); i++) await new Promise((r) => setTimeout(r, 100));
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).toMatch(new RegExp(`tvdemo-${child.pid}-\\d+-a`));
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(130);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`tvdemo-${child.pid}-`);

    // As nobody, from a world-readable copy of what the CLI needs: the checkout
    // itself may live where nobody cannot read (/root, a mktemp -d folder).
    const r = await runCliAs('nobody', ['demo']);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual(['tcp-vitals demo: needs root to create network namespaces (try: sudo npx tcp-vitals demo)']);
  }, 30_000);
});
