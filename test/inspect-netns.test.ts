/**
 * inspect across network namespaces (root): a redis-server with clients
 * connected, each process in its own namespace with its own sysctls (the model
 * must use the target's, read with setns), a process inspect may not read
 * (one line, exit 2), and tcp_keepalive_probes = 0 flagged and shown true by
 * the kernel.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { inspectProcess } from '../lib/readings/inspect';
import { socketModel } from '../lib/model/traps';
import { ADDR_B, Child, describeNetns, fixture, NetPair } from './helpers/netns';
import { startRedis, TestServer } from './helpers/servers';
import { runCli } from './helpers/inspect-cli';
import { runCliAs } from './helpers/as-user';
import { echoPeerPair } from './helpers/echo-peer';

const pick = (o: any) => ({ keepAlive: o.keepAlive, keepAliveIdle: o.keepAliveIdle, keepAliveInterval: o.keepAliveInterval,
  keepAliveCount: o.keepAliveCount, userTimeout: o.userTimeout, synCount: o.synCount });

function pidOf(pair: NetPair, ns: string, comm: string): number {
  const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
  const found = pids.find((p) => { try { return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === comm; } catch { return false; } });
  if (!found) throw new Error(`no ${comm} in ${ns} (${pids.join(' ')})`);
  return found;
}

describeNetns('inspect: redis-server and its clients, each in its own network namespace', () => {
  let pair: NetPair;
  let redis: TestServer;
  let client: Child;
  let ready: any;
  let redisPid: number;

  beforeAll(async () => {
    pair = NetPair.create();
    pair.sysctl(pair.a, 'net.ipv4.tcp_retries2', 7);
    pair.sysctl(pair.b, 'net.ipv4.tcp_retries2', 6);
    redis = await startRedis(pair.b, ADDR_B, 6379);
    redisPid = pidOf(pair, pair.b, 'redis-server');
    client = pair.spawnNode(pair.a, fixture('inspect-node.js'), [JSON.stringify({ host: ADDR_B, port: 6379 })]);
    ready = await client.waitFor((m) => m.type === 'ready', 15_000);
  }, 40_000);
  afterAll(() => {
    client?.kill();
    redis?.stop();
    pair?.destroy();
  });

  test('redis-server: its accepted clients, with the keepalive redis sets (tcp-keepalive 300: 300 s / 100 s / 3)', () => {
    const p = inspectProcess(redisPid);
    expect(p.command).toBe('redis-server');
    expect(p.sameNetns).toBe(false);
    expect(p.settings.retries2).toBe(6);
    expect(p.listening.map((l) => `${l.local.address}:${l.local.port}`)).toEqual([`${ADDR_B}:6379`]);
    const clients = p.connections.filter((c) => Object.values(ready.ports).includes(c.peer?.port));
    expect(clients).toHaveLength(3);
    for (const c of clients) {
      expect(c.direction).toBe('accepted');
      expect(pick(c.options)).toMatchObject({ keepAlive: true, keepAliveIdle: 300_000, keepAliveInterval: 100_000, keepAliveCount: 3, userTimeout: 0 });
      // tcp_retries2 = 6 in redis's namespace: seconds, not the 15.6 min of retries2 = 15.
      const expected = socketModel(p.settings, c.options, { rto: c.rtoMs * 1000, backoff: 0 }).deadlines.whileSending;
      expect(c.detection.whileSendingMs).toBeCloseTo(expected, 0);
      expect(c.detection.whileSendingMs).toBeLessThan(60_000);
      expect(c.traps.map((t) => t.code)).toEqual([]);
    }
  });

  test('the client in namespace A: its own sysctls (tcp_retries2 = 7), options as it reads them, sockets unchanged', async () => {
    const p = inspectProcess(ready.pid);
    expect(p.settings.retries2).toBe(7);
    expect(p.connections).toHaveLength(3);
    for (const name of ['ff', 'ka', 'plain']) {
      const c = p.connections.find((x) => x.local.port === ready.ports[name])!;
      expect(c.peer).toEqual({ family: 'IPv4', address: ADDR_B, port: 6379 });
      expect(pick(c.options)).toEqual(pick(ready.options[name]));
    }
    const after = await client.request({ cmd: 'options' }, 'options', 10_000);
    expect(after.options).toEqual(ready.options);
    // redis still answers on every inspected connection, and reads the same options again.
    for (const which of ['ff', 'ka', 'plain']) {
      expect(await client.request({ cmd: 'echo', which, payload: 'PING\r\n' }, 'echo', 10_000)).toMatchObject({ ok: true });
    }
    const again = inspectProcess(redisPid).connections.map((c) => [c.cookie, pick(c.options)]);
    expect(again).toEqual(inspectProcess(redisPid).connections.map((c) => [c.cookie, pick(c.options)]));
  });

  test('the CLI groups redis-server\'s clients under its listener', async () => {
    const r = await runCli(['inspect', String(redisPid)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`sysctls of its own network namespace: tcp_retries2 6`);
    expect(r.stdout).toMatch(new RegExp(`clients of ${ADDR_B.replace(/\./g, '\\.')}:6379: all 3 client connections on ${ADDR_B.replace(/\./g, '\\.')}:6379 notice a vanished host within`));
  });

  test('a process this user may not inspect: one line, exit 2', async () => {
    const r = await runCliAs('nobody', ['inspect', String(redisPid)]); // from a world-readable copy: the checkout may be private
    expect({ code: r.code, stdout: r.stdout, lines: r.stderr.split('\n').length }).toEqual({ code: 2, stdout: '', lines: 2 });
    expect(r.stderr).toMatch(new RegExp(`^tcp-vitals inspect: not permitted to inspect pid ${redisPid}: reading another process's sockets needs root or ptrace rights over it`));
  });
});

describeNetns('inspect: tcp_keepalive_probes = 0 is flagged, and the kernel does kill a live idle connection', () => {
  const peerPair = echoPeerPair();

  test('predicted: dies at the first keepalive timer (idle 3 s); observed: ETIMEDOUT with the peer alive', async () => {
    await peerPair.start({ 'net.ipv4.tcp_keepalive_probes': 0 });
    const { client, ready } = await peerPair.spawnClient('inspect-keepalive.js');
    const c = inspectProcess(ready.pid).connections[0];
    expect(pick(c.options)).toMatchObject({ keepAlive: true, keepAliveIdle: 3000, keepAliveInterval: 1000, keepAliveCount: 0 });
    expect(c.traps.map((t) => t.code)).toContain('keepalive-probes-zero');
    expect(c.detection.whileIdleMs).toBe(3000);
    const err = await client.waitFor((m) => m.type === 'error', 15_000);
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.elapsedMs).toBeGreaterThanOrEqual(2900);
    // The peer never went away: it still accepts.
    expect(peerPair.peer.exitCode).toBeNull();
  }, 40_000);
});
