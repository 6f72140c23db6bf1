/**
 * `inspect` against real processes and real sockets: a Node service with a mix
 * of connections (failFast, setKeepAlive, plain), a Python service that sets
 * TCP_USER_TIMEOUT and keepalive with setsockopt. inspect must report each
 * option exactly as the process itself reads it, flag the plain ones, and
 * leave every socket unchanged (the processes read their options again
 * afterwards, and a round trip still works).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as net from 'node:net';
import { createInterface } from 'node:readline';
import { inspectSockets } from '../lib/kernel/pidfd';
import { kernelSettings } from '../lib/kernel/sysctl';
import { failFastOptions } from '../lib/model/failfast-settings';
import { InspectedConnection, inspectProcess } from '../lib/readings/inspect';
import { Child, fixture } from './helpers/netns';
import { runCli } from './helpers/inspect-cli';

const OPTION_KEYS = ['keepAlive', 'keepAliveIdle', 'keepAliveInterval', 'keepAliveCount', 'userTimeout', 'synCount'] as const;
const pick = (o: object) => Object.fromEntries(OPTION_KEYS.map((k) => [k, (o as Record<string, unknown>)[k]]));
const codes = (c: InspectedConnection) => c.traps.map((t) => t.code).sort();

describe('inspect: a Node service and a Python service on loopback', () => {
  let server: net.Server;
  let node: Child;
  let py: ChildProcess;
  let pyLines: AsyncIterableIterator<string>;
  let ready: any;
  let pyReady: any;

  beforeAll(async () => {
    server = net.createServer((s) => { s.on('data', (d) => s.write(d)); s.on('error', () => {}); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    node = new Child(spawn(process.execPath, [fixture('inspect-node.js'), JSON.stringify({ host: '127.0.0.1', port })],
      { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }));
    ready = await node.waitFor((m) => m.type === 'ready', 15_000);
    py = spawn('python3', [fixture('inspect-py.py'), '127.0.0.1', String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
    pyLines = createInterface({ input: py.stdout! })[Symbol.asyncIterator]();
    pyReady = JSON.parse((await pyLines.next()).value);
  });
  afterAll(async () => {
    node?.kill();
    py?.kill('SIGKILL');
    await new Promise<void>((r) => server.close(() => r()));
  });

  const byPort = (conns: InspectedConnection[], port: number) => {
    const c = conns.find((x) => x.local.port === port);
    if (!c) throw new Error(`no connection from port ${port} in ${JSON.stringify(conns.map((x) => x.local))}`);
    return c;
  };

  test('every option of the Node connections exactly as the process reads it', () => {
    const p = inspectProcess(ready.pid);
    expect(p.connections).toHaveLength(3);
    expect(p.otherSockets).toBeGreaterThanOrEqual(1); // the UDP socket, skipped
    for (const name of ['ff', 'ka', 'plain']) {
      const c = byPort(p.connections, ready.ports[name]);
      expect({ name, ...pick(c.options) }).toEqual({ name, ...pick(ready.options[name]) });
      expect(c.cookie).toBe(ready.options[name].cookie);
      expect(c.state).toBe('ESTABLISHED');
      expect(c.direction).toBe('outgoing');
    }
    const ff = failFastOptions(10_000);
    expect(pick(byPort(p.connections, ready.ports.ff).options)).toMatchObject(
      { keepAlive: true, keepAliveIdle: ff.keepAliveIdle, keepAliveInterval: ff.keepAliveInterval, keepAliveCount: ff.keepAliveCount, userTimeout: ff.userTimeout });
    // Node's setKeepAlive(true, 5000) also sets interval 1 s and count 10 (libuv).
    expect(pick(byPort(p.connections, ready.ports.ka).options)).toMatchObject(
      { keepAlive: true, keepAliveIdle: 5000, keepAliveInterval: 1000, keepAliveCount: 10, userTimeout: 0 });
    const s = kernelSettings();
    expect(pick(byPort(p.connections, ready.ports.plain).options)).toEqual({
      keepAlive: false, keepAliveIdle: s.keepAliveTimeMs, keepAliveInterval: s.keepAliveIntervalMs,
      keepAliveCount: s.keepAliveProbes, userTimeout: 0, synCount: s.synRetries,
    });
  });

  test('the plain connections are flagged, failFast is not; predictions follow the options', () => {
    const p = inspectProcess(ready.pid);
    const [ff, ka, plain] = ['ff', 'ka', 'plain'].map((n) => byPort(p.connections, ready.ports[n]));
    const slowDefault = kernelSettings().retries2 >= 15;
    expect(codes(ff)).toEqual([]);
    expect(ff.detection.whileSendingMs).toBeLessThan(15_000);
    expect(ff.detection.whileIdleMs).toBeLessThan(15_000);
    expect(codes(plain)).toEqual(slowDefault ? ['never-while-idle', 'slow-while-sending'] : ['never-while-idle']);
    expect(plain.detection.whileIdleMs).toBeNull();
    expect(codes(ka)).toEqual(slowDefault ? ['slow-while-sending'] : []);
    // idle 5 s + 10 probes x 1 s, plus timer slack
    expect(ka.detection.whileIdleMs).toBeGreaterThanOrEqual(15_000);
    expect(ka.detection.whileIdleMs).toBeLessThan(17_500);
  });

  test('the Python connection: TCP_USER_TIMEOUT, keepalive and TCP_SYNCNT exactly as set with setsockopt', () => {
    expect(pyReady.options).toEqual({
      userTimeout: 60000, keepAlive: true, keepAliveIdle: 11000, keepAliveInterval: 3000, keepAliveCount: 4, synCount: 3,
    });
    const p = inspectProcess(pyReady.pid);
    expect(p.command).toMatch(/python/);
    const c = byPort(p.connections, pyReady.port);
    expect(pick(c.options)).toEqual(pyReady.options);
    // U 60 s > keepalive budget 11 + 4 x 3 = 23 s: the kernel ignores TCP_KEEPCNT.
    expect(codes(c)).toEqual(['user-timeout-ignores-keepcnt']);
    expect(c.detection.whileIdleMs).toBeGreaterThanOrEqual(60_000);
    expect(c.detection.whileIdleMs).toBeLessThan(70_000);
  });

  test('inspecting leaves every socket unchanged, and this process leaks no descriptor', async () => {
    const fdsBefore = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 20; i++) {
      inspectProcess(ready.pid);
      inspectSockets(pyReady.pid);
    }
    expect(readdirSync('/proc/self/fd').length).toBe(fdsBefore);
    const after = await node.request({ cmd: 'options' }, 'options', 10_000);
    expect(after.options).toEqual(ready.options);
    py.stdin!.write('again\n');
    expect(JSON.parse((await pyLines.next()).value)).toEqual(pyReady.options);
    for (const which of ['ff', 'ka', 'plain']) {
      expect(await node.request({ cmd: 'echo', which }, 'echo', 10_000)).toMatchObject({ ok: true });
    }
  });

  test('tcp-vitals inspect PID: grouped by peer with a one-line summary; --json one object per connection', async () => {
    const port = (server.address() as net.AddressInfo).port;
    const text = await runCli(['inspect', String(ready.pid)]);
    expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^pid ${ready.pid} \\(node\\): 3 TCP connections, 0 listening`));
    const summary = lines.find((l) => l.startsWith(`to 127.0.0.1:${port}: `));
    if (kernelSettings().retries2 >= 15) {
      expect(summary).toMatch(new RegExp(`2 of 3 connections to 127\\.0\\.0\\.1:${port} have no TCP_USER_TIMEOUT: a vanished host hangs them for [\\d.]+ min; 1 never notices it while idle`));
    }
    expect(text.stdout).toContain('keepalive on (idle 5.00 s, interval 1.00 s, count 10), no TCP_USER_TIMEOUT');
    const json = await runCli(['inspect', String(ready.pid), String(pyReady.pid), '--json']);
    expect(json.code).toBe(0);
    const objects = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(objects).toHaveLength(4);
    expect(objects.map((o) => o.pid).sort()).toEqual([ready.pid, ready.pid, ready.pid, pyReady.pid].sort());
    for (const o of objects) {
      expect(Object.keys(o)).toEqual(expect.arrayContaining(['peer', 'local', 'state', 'rttMs', 'unacknowledgedBytes', 'unsentBytes',
        'receiveQueueBytes', 'retransmits', 'lastHeardMs', 'options', 'detection', 'traps', 'diagnosis']));
    }
  });

  test('--watch refreshes (one block per refresh on a pipe) and --count stops it', async () => {
    const r = await runCli(['inspect', String(pyReady.pid), '--watch', '200ms', '--count', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/every 0.2 s \(Ctrl-C to stop\)/g)).toHaveLength(3);
    expect(r.stdout).not.toContain('\x1b[');
  });

  test('--watch on a terminal redraws in place: cursor home, each line cleared to its end, the rest cleared; no full-screen clear after the first', async () => {
    const cli = `${process.execPath} ${require.resolve('../dist/cli/index.js')} inspect ${pyReady.pid} --watch 200ms --count 3`;
    /* eslint-disable no-control-regex -- the test reads terminal escape sequences */
    const r = await runCli([], { prefix: ['script', '-qec', cli, '/dev/null'], raw: true });
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out.split('\x1b[2J')).toHaveLength(2); // cleared once, at the start
    expect(out.match(/\x1b\[H/g)).toHaveLength(4); // home before the clear and before each of the 3 frames
    expect(out.match(/\x1b\[J/g)).toHaveLength(3); // the rest of the screen cleared after each frame
    expect(out).toMatch(/pid \d+ \(python3?[^)]*\): 1 TCP connection,[^\n]*\x1b\[K/);
  });

  test('--all lists this service among the processes', async () => {
    const r = await runCli(['inspect', '--all'], { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`pid ${ready.pid} (node): 3 TCP connections`);
    expect(r.stdout).toMatch(/\d+ processes with TCP connections/);
  });
});

describe('inspect: usage and process errors are one line and exit 2', () => {
  test.each([
    [['inspect'], /^tcp-vitals inspect: missing PID \(or --all\)\n$/],
    [['inspect', 'abc'], /^tcp-vitals inspect: expected a process id, got 'abc'\n$/],
    [['inspect', '1', '--all'], /^tcp-vitals inspect: give PIDs or --all, not both\n$/],
    [['inspect', '1', '--count', '2'], /^tcp-vitals inspect: --count only applies with --watch\n$/],
    [['inspect', '1', '--watch', 'soon'], /^tcp-vitals inspect: --watch must be a duration/],
    [['inspect', '1', '--frobnicate'], /^tcp-vitals inspect: Unknown option '--frobnicate'/],
    // pid_max is at most 2^22: this pid cannot exist.
    [['inspect', '1073741823'], /^tcp-vitals inspect: no process with pid 1073741823 \(ESRCH\)\n$/],
  ])('%j', async (args, message) => {
    const r = await runCli(args);
    expect({ code: r.code, stdout: r.stdout, lines: r.stderr.split('\n').length }).toEqual({ code: 2, stdout: '', lines: 2 });
    expect(r.stderr).toMatch(message);
  });
});
