/**
 * misconfigurationAlarms() against the real kernel: each case is made with
 * real sockets, the options are read back from the kernel, and the warning
 * fires once with its code. A correctly configured set of sockets raises
 * none (that test runs first: each kind is warned once per process).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { getOptions, setOptions } from '../lib/kernel/options';
import { kernelSettings } from '../lib/kernel/sysctl';
import { protect } from '../lib/policy/protect';
import { Alarm, ALARM_CODES, alarmsRaised, misconfigurationAlarms } from '../lib/policy/alarms';
import { sleep } from './helpers/loopback';
import { ADDR_A, Child, describeNetns, fixture, NetPair } from './helpers/netns';
import { inspectProcess } from '../lib/readings/inspect';
import { selfSignedCert } from './helpers/tls';

// Jest gives the test a process object of its own: 'warning' events of the real process do not reach it,
// so process.emitWarning is watched here (the probes-zero child below listens for real 'warning' events).
const warnings: Array<{ code?: string; name: string; message: string }> = [];
let emitSpy: jest.SpyInstance;
const codes = (): string[] => warnings.filter((w) => w.code?.startsWith('TCP_VITALS_')).map((w) => w.code!);

/** Lets queued microtasks and the nextTick of emitWarning run. */
const settle = async (): Promise<void> => { await sleep(20); };

describe('misconfiguration alarms (real sockets, options read back from the kernel)', () => {
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  let alarms: ReturnType<typeof misconfigurationAlarms>;
  let port = 0;
  beforeAll(async () => {
    emitSpy = jest.spyOn(process, 'emitWarning').mockImplementation(((message: string, o?: { type?: string; code?: string }) => {
      warnings.push({ code: o?.code, name: o?.type ?? 'Warning', message });
    }) as never);
    alarms = misconfigurationAlarms();
    const server = net.createServer((s) => { sockets.push(s); s.on('error', () => {}); });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    alarms.stop();
    emitSpy.mockRestore();
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  });
  const connected = (opts: net.NetConnectOpts = { port, host: '127.0.0.1' }): Promise<net.Socket> => new Promise((resolve, reject) => {
    const c = net.connect(opts, () => resolve(c));
    sockets.push(c);
    c.once('error', reject);
  });

  test('a correctly configured socket raises none', async () => {
    const a = await connected();
    a.setKeepAlive(true, 5000);
    const b = new net.Socket();
    sockets.push(b);
    b.setKeepAlive(true, 7000); // before connect: Node 20 re-applies it at connect
    await new Promise<void>((r) => b.connect(port, '127.0.0.1', r));
    const c = await connected({ port, host: '127.0.0.1', keepAlive: true, keepAliveInitialDelay: 3000 });
    const d = await connected();
    setOptions(d, { userTimeout: 20_000 });
    d.setKeepAlive(true, 5000); // user timeout longer than the keepalive idle: fine
    const e = await connected();
    e.setKeepAlive(false);
    await settle();
    expect(getOptions(a)).toMatchObject({ keepAlive: true, keepAliveIdle: 5000 });
    expect(getOptions(b)).toMatchObject({ keepAlive: true, keepAliveIdle: 7000 });
    expect(getOptions(c)).toMatchObject({ keepAlive: true, keepAliveIdle: 3000 });
    expect(getOptions(d)).toMatchObject({ keepAlive: true, keepAliveIdle: 5000, userTimeout: 20_000 });
    expect(getOptions(e).keepAlive).toBe(false);
    expect(codes()).toEqual([]);
    expect(alarmsRaised()).toEqual([]);
  });

  test('keepalive on with the kernel\'s default idle: TCP_VITALS_KEEPALIVE_DEFAULT_IDLE, once', async () => {
    const idle = kernelSettings().keepAliveTimeMs;
    expect(idle).toBeGreaterThanOrEqual(3_600_000); // the machine's default; the rule is about exactly this
    const a = await connected();
    a.setKeepAlive(true);
    const b = await connected();
    b.setKeepAlive(true);
    await settle();
    expect(getOptions(a)).toMatchObject({ keepAlive: true, keepAliveIdle: idle });
    expect(codes()).toEqual([ALARM_CODES.defaultIdle]);
    expect(warnings[0].name).toBe('TcpVitalsWarning');
  });

  test('setKeepAlive(true, 500): Node rounds the delay away; TCP_VITALS_KEEPALIVE_ROUNDED', async () => {
    const a = await connected();
    a.setKeepAlive(true, 500);
    await settle();
    // The kernel kept its own tcp_keepalive_time: no 500 ms, no 1 s.
    expect(getOptions(a)).toMatchObject({ keepAlive: true, keepAliveIdle: kernelSettings().keepAliveTimeMs });
    expect(codes().filter((c) => c === ALARM_CODES.rounded)).toHaveLength(1);
    expect(warnings.find((w) => w.code === ALARM_CODES.rounded)!.message).toMatch(/500 ms down to 0/);
  });

  test('keepalive asked for before the descriptor exists, lost at connect: TCP_VITALS_KEEPALIVE_LOST', async () => {
    const s = new net.Socket();
    sockets.push(s);
    s.connect({ port, host: 'localhost', family: 4 }); // the lookup is asynchronous: a handle without an fd
    const handle = (s as unknown as { _handle: { fd: number; setKeepAlive(on: boolean, delay: number): number } })._handle;
    expect(handle.fd).toBeLessThan(0);
    handle.setKeepAlive(true, 5); // what Socket#setKeepAlive did before Node re-applied it at connect
    await new Promise<void>((r) => s.once('connect', () => r()));
    await settle();
    const o = getOptions(s);
    expect(o.keepAlive).toBe(true);
    expect(o.keepAliveIdle).not.toBe(5000); // libuv applied its own (60 s with libuv 1.46)
    expect(codes().filter((c) => c === ALARM_CODES.lost)).toHaveLength(1);
  });

  test('TCP_USER_TIMEOUT shorter than TCP_KEEPIDLE: TCP_VITALS_USER_TIMEOUT_BELOW_KEEPALIVE; a live idle peer survives it', async () => {
    const a = await connected();
    setOptions(a, { userTimeout: 1000 });
    a.setKeepAlive(true, 2000);
    await settle();
    expect(getOptions(a)).toMatchObject({ keepAlive: true, keepAliveIdle: 2000, keepAliveInterval: 1000, userTimeout: 1000 });
    expect(codes().filter((c) => c === ALARM_CODES.userTimeout)).toHaveLength(1);
    // What the kernel does with it: probes at 2 s, 3 s, ... are answered by the live peer: the connection stays.
    await sleep(5500);
    expect(a.destroyed).toBe(false);
    expect(getOptions(a).keepAlive).toBe(true);
  }, 20_000);

  test('https.Agent({ keepAlive: true }) is not TCP keepalive while the first request waits: TCP_VITALS_AGENT_KEEPALIVE', async () => {
    const cert = selfSignedCert('127.0.0.1');
    const web = https.createServer({ key: readFileSync(cert.keyPath), cert: readFileSync(cert.certPath) },
      (req, res) => { setTimeout(() => res.end('late'), 200); });
    servers.push(web as unknown as net.Server);
    try {
      await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
      const agent = new https.Agent({ keepAlive: true, keepAliveMsecs: 3000, rejectUnauthorized: false });
      let during: ReturnType<typeof getOptions> | null = null;
      const socket = await new Promise<net.Socket>((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port: (web.address() as net.AddressInfo).port, agent }, (res) => {
          res.resume();
          res.on('end', () => setImmediate(() => resolve(req.socket!)));
        });
        req.on('socket', (s) => s.once('secureConnect', () => setImmediate(() => { during = getOptions(s); })));
        req.on('error', reject);
      });
      await settle();
      // While the request waited (Node 20.20): keepalive off on the https agent's new connection.
      expect(during).not.toBeNull();
      expect(!during!.keepAlive || during!.keepAliveIdle >= 3_600_000).toBe(true);
      expect(codes().filter((c) => c === ALARM_CODES.agent)).toHaveLength(1);
      // Back in the pool, the agent sets its keepAliveMsecs.
      expect(getOptions(socket)).toMatchObject({ keepAlive: true, keepAliveIdle: 3000 });
      agent.destroy();
    } finally {
      cert.remove();
    }
  });

  test('http.Agent sets TCP keepalive at connect on this Node: no alarm for it', async () => {
    const before = codes().length;
    const web = http.createServer((req, res) => { res.end('ok'); });
    servers.push(web as unknown as net.Server);
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 4000 });
    const during = await new Promise<ReturnType<typeof getOptions>>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: (web.address() as net.AddressInfo).port, agent }, (res) => { res.resume(); });
      req.on('socket', (s) => s.once('connect', () => setImmediate(() => resolve(getOptions(s)))));
      req.on('error', reject);
    });
    await settle();
    expect(during).toMatchObject({ keepAlive: true, keepAliveIdle: 4000 });
    expect(codes().length).toBe(before);
    agent.destroy();
  });

  test('a client\'s setKeepAlive(false) on a protect()ed connection: protect() re-applies; TCP_VITALS_KEEPALIVE_OVERRIDDEN', async () => {
    const handle = protect({ timeout: 5000 });
    try {
      const a = await connected();
      const before = getOptions(a);
      expect(before.keepAlive).toBe(true);
      a.setKeepAlive(false);
      await settle();
      expect(getOptions(a)).toMatchObject({ keepAlive: true, keepAliveIdle: before.keepAliveIdle });
      const w = warnings.filter((x) => x.code === ALARM_CODES.overridden);
      expect(w).toHaveLength(1);
      expect(w[0].message).toMatch(/re-applied its own keepalive/);
    } finally {
      handle.stop();
    }
  });

  test('every kind raised so far was raised once, and alarmsRaised() lists them in order', () => {
    const raised: readonly Alarm[] = alarmsRaised();
    expect(raised.map((a) => a.code)).toEqual(codes());
    expect(new Set(codes()).size).toBe(codes().length);
  });
});

describeNetns('misconfiguration alarms: tcp_keepalive_probes = 0 (own namespace)', () => {
  const pairs: NetPair[] = [];
  afterAll(() => { for (const p of pairs) p.destroy(); });

  test('TCP_VITALS_KEEPALIVE_PROBES_ZERO, and the kernel kills the live idle connection at its first keepalive timer', async () => {
    const pair = NetPair.create();
    pairs.push(pair);
    pair.sysctl(pair.a, 'net.ipv4.tcp_keepalive_probes', 0);
    const child = pair.spawnNode(pair.a, fixture('alarms-probes-zero.js'), [ADDR_A]);
    const r = await child.waitFor((m) => m.type === 'result', 20_000);
    expect(r.options).toMatchObject({ keepAlive: true, keepAliveCount: 0 });
    expect(r.warnings.map((w: { code: string }) => w.code)).toContain(ALARM_CODES.probesZero);
    expect(r.warnings.filter((w: { code: string }) => w.code === ALARM_CODES.probesZero)).toHaveLength(1);
    // The peer is alive (same process) and idle: the kernel still drops it, without a probe, at TCP_KEEPIDLE.
    expect(r.error).toBe('ETIMEDOUT');
    expect(r.afterMs).toBeLessThan(9000);
  }, 40_000);
});

describe('the same finding from inside (warning) and outside (tcp-vitals inspect)', () => {
  let child: Child | undefined;
  afterAll(() => child?.kill());

  test('a user timeout below the keepalive idle: TCP_VITALS_USER_TIMEOUT_BELOW_KEEPALIVE in the process, trap user-timeout-below-keepalive in inspect', async () => {
    child = new Child(spawn(process.execPath, [fixture('alarms-inspect.js')], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }));
    const ready = await child.waitFor((m) => m.type === 'ready', 15_000);
    expect(ready.codes).toEqual([ALARM_CODES.userTimeout]);
    const c = inspectProcess(ready.pid).connections.find((x) => x.local.port === ready.port);
    expect(c).toBeDefined();
    expect(c!.options).toMatchObject({ keepAlive: true, keepAliveIdle: 5000, userTimeout: 1000 });
    expect(c!.traps.map((t) => t.code)).toContain('user-timeout-below-keepalive');
  }, 30_000);
});
