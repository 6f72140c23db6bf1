/**
 * doctor and deadlines() in namespaces whose sysctls sit where the kernel
 * allows but the model used to throw or mislead: tcp_rto_min_us 500,
 * tcp_keepalive_probes 0, tcp_keepalive_time 3,000,000 s, and
 * tcp_rto_min_us 5 s above tcp_rto_max_ms 1000. Also measures the kernel fact
 * behind doctor's tcp_keepalive_probes = 0 warning: a keepalive connection
 * to a LIVE peer dies at the first keepalive tick.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describeNetns, fixture, NetPair } from './helpers/netns';

const CLI = join(__dirname, '..', 'dist', 'cli', 'index.js');

function inNs(ns: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...args], { encoding: 'utf8', timeout: 40_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describeNetns('sysctls at the kernel\'s edges (netns)', () => {
  let pair: NetPair;
  beforeAll(() => {
    pair = NetPair.create();
    pair.sysctl(pair.a, 'net.ipv4.tcp_rto_min_us', 500);
    pair.sysctl(pair.a, 'net.ipv4.tcp_keepalive_probes', 0);
    pair.sysctl(pair.a, 'net.ipv4.tcp_keepalive_time', 3_000_000);
    pair.sysctl(pair.b, 'net.ipv4.tcp_rto_min_us', 5_000_000);
    pair.sysctl(pair.b, 'net.ipv4.tcp_rto_max_ms', 1000);
  });
  afterAll(() => pair.destroy());

  test('doctor: rto_min 500 µs, keepalive_probes 0, keepalive_time 3,000,000 s: a report, probes = 0 flagged', () => {
    const text = inNs(pair.a, [CLI, 'doctor']);
    expect({ status: text.status, stderr: text.stderr }).toEqual({ status: 0, stderr: '' });
    expect(text.stdout).toMatch(/! net\.ipv4\.tcp_keepalive_probes = 0: .*live peer/);
    const json = inNs(pair.a, [CLI, 'doctor', '--json']);
    expect(json.status).toBe(0);
    const r = JSON.parse(json.stdout);
    expect(r.settings).toMatchObject({ rtoMinMs: 0.5, keepAliveProbes: 0, keepAliveTimeMs: 3_000_000_000 });
    expect(r.risks.map((x: { setting: string }) => x.setting)).toContain('net.ipv4.tcp_keepalive_probes');
  });

  test('doctor: rto_min 5 s above rto_max 1 s: the assumed RTO is capped at 1 s', () => {
    const json = inNs(pair.b, [CLI, 'doctor', '--json']);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout).assumedRtoMs).toBe(1000);
  });

  test('deadlines() does not throw; keepalive_probes 0 kills an idle connection to a live peer at the first tick, in the model\'s window', () => {
    const out = inNs(pair.a, [fixture('sysctl-edges.js'), 'keepalive']);
    expect(out.stderr).toBe('');
    const r = JSON.parse(out.stdout);
    // SO_KEEPALIVE alone: idle 3,000,000 s from the sysctl, count 0.
    expect(r.sysctlIdle).toMatchObject({ keepAliveCount: 0, whileIdle: { earliestMs: 3_000_000_000 } });
    expect(r.deadlines).toMatchObject({ keepAliveCount: 0, whileIdle: { earliestMs: 2000 } });
    // The kernel fact: ETIMEDOUT although the peer is alive and would answer every probe.
    expect(r.peerAlive).toBe(true);
    expect(r.death.code).toBe('ETIMEDOUT');
    expect(r.death.afterSilenceMs).toBeGreaterThanOrEqual(r.deadlines.whileIdle.earliestMs - 20);
    // Generous: the kernel's verdict plus however late this process sees the 'error'.
    expect(r.death.afterSilenceMs).toBeLessThan(r.deadlines.whileIdle.latestMs + 3000);
  });

  test('rto_min 5 s above rto_max 1 s: tcpi_rto is 1 s, and deadlines() caps the RTO there', () => {
    const out = inNs(pair.b, [fixture('sysctl-edges.js'), 'rto']);
    expect(out.stderr).toBe('');
    const r = JSON.parse(out.stdout);
    expect(r.rto).toBe(1_000_000);
    expect(r.deadlines.baseRtoMs).toBe(1000);
    expect(r.deadlines.whileSending).toBeLessThan(20_000); // 14.4 s budget of 1 s expiries, not hours
  });
});
