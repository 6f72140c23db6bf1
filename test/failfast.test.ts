/**
 * failFast on loopback: option computation, argument validation, options
 * really set on the socket (connected, connecting, TLS), the error
 * augmentation hook, and the watcher's handling of a connection the kernel
 * closed while Node was not reading (orderly close vs reset).
 * Vanishing peers are in failfast-vanish.test.ts / failfast-survive.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { failFast, failFastOptions } from '../lib/policy/failfast';
import { getOptions } from '../lib/kernel/options';
import { tcpInfo } from '../lib/kernel/tcpinfo';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: net.Server;
let port = 0;
const serverSockets: net.Socket[] = [];

beforeAll(async () => {
  server = net.createServer((s) => { serverSockets.push(s); s.on('error', () => {}); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  for (const s of serverSockets) s.destroy();
  await new Promise((r) => server.close(r));
});

/**
 * A loopback connection and its server side. With `paused`, the client is
 * paused inside its 'connect' listener, before Node starts reading: Node then
 * polls the fd for nothing and does not notice the kernel closing it.
 */
async function connected(paused = false): Promise<[net.Socket, net.Socket]> {
  const before = serverSockets.length;
  const c = net.connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => { c.once('connect', () => { if (paused) c.pause(); r(); }); c.once('error', j); });
  for (let i = 0; i < 200 && serverSockets.length === before; i++) await sleep(5);
  return [c, serverSockets[serverSockets.length - 1]];
}

/** Destroys `c` with a kernel-like ETIMEDOUT and returns the error its 'error' listener got. */
async function destroyedWithTimeout(c: net.Socket): Promise<Error & Record<string, unknown>> {
  const seen = new Promise<Error>((r) => c.once('error', r));
  c.destroy(Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT', errno: -110, syscall: 'read' }));
  return (await seen) as Error & Record<string, unknown>;
}

describe('failFastOptions', () => {
  test('derives keepalive and user timeout from the timeout', () => {
    expect(failFastOptions(2000)).toEqual({
      keepAlive: true, keepAliveIdle: 1000, keepAliveInterval: 1000, keepAliveCount: 1, userTimeout: 1800,
    });
    expect(failFastOptions(3000)).toEqual({
      keepAlive: true, keepAliveIdle: 1000, keepAliveInterval: 1000, keepAliveCount: 2, userTimeout: 2800,
    });
    expect(failFastOptions(10_000)).toEqual({
      keepAlive: true, keepAliveIdle: 5000, keepAliveInterval: 1000, keepAliveCount: 5, userTimeout: 9800,
    });
    expect(failFastOptions(3_600_000)).toMatchObject({ keepAliveIdle: 1_800_000, keepAliveCount: 127, userTimeout: 3_599_800 });
  });

  test('the keepalive schedule ends exactly at the timeout', () => {
    for (let t = 2000; t <= 200_000; t += 1000) {
      const o = failFastOptions(t);
      // Kernel: first keepalive tick (idle + n * interval, n >= 1) at or past the user timeout.
      const n = Math.max(1, Math.ceil((o.userTimeout - o.keepAliveIdle) / o.keepAliveInterval));
      expect(o.keepAliveIdle + n * o.keepAliveInterval).toBe(t);
      if (o.keepAliveCount < 127) expect(o.keepAliveIdle + o.keepAliveCount * o.keepAliveInterval).toBe(t);
    }
  });

  test.each([
    [1000, 'ERR_OUT_OF_RANGE'], [2500, 'ERR_OUT_OF_RANGE'], [3_601_000, 'ERR_OUT_OF_RANGE'], [NaN, 'ERR_OUT_OF_RANGE'],
    [Infinity, 'ERR_OUT_OF_RANGE'], [-2000, 'ERR_OUT_OF_RANGE'], ['2000', 'ERR_INVALID_ARG_TYPE'], [undefined, 'ERR_INVALID_ARG_TYPE'],
  ])('refuses %p with %s', (value, code) => {
    expect(() => failFastOptions(value as number)).toThrow(expect.objectContaining({ code }));
  });
});

describe('failFast arguments', () => {
  test('bad socket, options, timeout and pollInterval give Node-shaped errors', async () => {
    const [c] = await connected();
    try {
      expect(() => failFast({} as net.Socket, { timeout: 2000 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' }));
      expect(() => failFast(c, null as unknown as { timeout: number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(() => failFast(c, {} as { timeout: number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(() => failFast(c, { timeout: 2200 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', name: 'RangeError' }));
      expect(() => failFast(c, { timeout: 2000, pollInterval: 10 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => failFast(c, { timeout: 2000, pollInterval: 1500 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => failFast(c, { timeout: 2000, pollInterval: '100' as unknown as number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      // Nothing was applied by the refused calls.
      expect(getOptions(c).userTimeout).toBe(0);
      expect(Object.prototype.hasOwnProperty.call(c, 'destroy')).toBe(false);
    } finally {
      c.destroy();
    }
  });

  test('a destroyed socket and a never-connected socket are refused', async () => {
    const [c] = await connected();
    c.destroy();
    expect(() => failFast(c, { timeout: 2000 })).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_CLOSED' }));
    expect(() => failFast(new net.Socket(), { timeout: 2000 })).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_NOT_CONNECTED' }));
  });
});

describe('failFast on a live loopback connection', () => {
  test('sets the options on a connected socket; stop() unhooks but leaves them', async () => {
    const [c] = await connected();
    try {
      const handle = failFast(c, { timeout: 4000 });
      expect(handle.timeout).toBe(4000);
      expect(handle.options).toEqual(failFastOptions(4000));
      expect(getOptions(c)).toMatchObject(failFastOptions(4000));
      // The hook lives in runtime/socket-hooks (_destroy level): destroy is never shadowed.
      expect(Object.prototype.hasOwnProperty.call(c, 'destroy')).toBe(false);
      handle.stop();
      handle.stop();
      expect(Object.prototype.hasOwnProperty.call(c, 'destroy')).toBe(false);
      expect(getOptions(c).userTimeout).toBe(3800);
      expect((await destroyedWithTimeout(c)).reason).toBeUndefined(); // unhooked: not augmented
    } finally {
      c.destroy();
    }
  });

  test('calling it again replaces the previous one', async () => {
    const [c] = await connected();
    try {
      const first = failFast(c, { timeout: 2000 });
      const second = failFast(c, { timeout: 6000 });
      expect(getOptions(c)).toMatchObject(failFastOptions(6000));
      first.stop(); // already replaced: must not unhook the second
      expect(Object.prototype.hasOwnProperty.call(c, 'destroy')).toBe(false);
      expect((await destroyedWithTimeout(c)).reason).toBe('kernel'); // the second still augments
      second.stop();
      expect(Object.prototype.hasOwnProperty.call(c, 'destroy')).toBe(false);
    } finally {
      c.destroy();
    }
  });

  test('while connecting: applied once the fd exists, and wins over net.connect keepAlive', async () => {
    const c = net.connect({ port, host: '127.0.0.1', keepAlive: true, keepAliveInitialDelay: 30_000 });
    try {
      expect(c.connecting).toBe(true);
      failFast(c, { timeout: 8000 });
      await new Promise<void>((r, j) => { c.once('connect', r); c.once('error', j); });
      expect(getOptions(c)).toMatchObject(failFastOptions(8000));
    } finally {
      c.destroy();
    }
  });

  test('errors other than ETIMEDOUT pass through untouched; ETIMEDOUT gets reason and unacknowledgedBytes', async () => {
    const [a] = await connected();
    failFast(a, { timeout: 2000 });
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const seenA = new Promise<Error>((r) => a.once('error', r));
    a.destroy(reset);
    const errA = (await seenA) as Error & Record<string, unknown>;
    expect(errA).toBe(reset);
    expect(errA.reason).toBeUndefined();
    expect(errA.unacknowledgedBytes).toBeUndefined();

    const [b] = await connected();
    failFast(b, { timeout: 2000 });
    b.write(Buffer.alloc(1000));
    await sleep(50); // acknowledged by the loopback peer
    const timedOut = Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT', errno: -110, syscall: 'read' });
    const seenB = new Promise<Error>((r) => b.once('error', r));
    b.destroy(timedOut);
    const errB = (await seenB) as Error & Record<string, unknown>;
    expect(errB).toBe(timedOut);
    expect(errB.reason).toBe('kernel'); // nothing unhealthy was ever observed
    expect(errB.unacknowledgedBytes).toBe(0);
  });

  test('an error nobody listens for still crashes the process (the hook adds no listener)', () => {
    const script = `
      const net = require('node:net');
      const { failFast } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'policy', 'failfast'))});
      const srv = net.createServer(() => {}).listen(0, '127.0.0.1', () => {
        const c = net.connect(srv.address().port, '127.0.0.1', () => {
          failFast(c, { timeout: 2000 });
          c.destroy(Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' }));
        });
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/read ETIMEDOUT/);
    expect(r.stderr).toMatch(/reason: 'kernel'/);
  });

  test('paused socket, orderly close by both sides: the watcher stays quiet', async () => {
    const [c, s] = await connected(true);
    try {
      const errors: Error[] = [];
      c.on('error', (e) => errors.push(e));
      failFast(c, { timeout: 2000, pollInterval: 50 });
      c.end();
      s.end();
      for (let i = 0; i < 500 && tcpInfo(c).state !== 'CLOSE'; i++) await sleep(10);
      expect(tcpInfo(c).state).toBe('CLOSE');
      await sleep(300); // several watcher ticks
      expect(errors).toEqual([]);
      expect(c.destroyed).toBe(false);
      const closed = new Promise((r) => c.once('close', r));
      c.resume();
      await closed;
      expect(errors).toEqual([]);
    } finally {
      c.destroy();
    }
  });

  test("paused socket reset by the peer: delivered as Node's own ECONNRESET (Node says nothing until it reads)", async () => {
    const [c, s] = await connected(true);
    try {
      const seen = new Promise<Error>((r) => c.once('error', r));
      failFast(c, { timeout: 2000, pollInterval: 50 });
      s.resetAndDestroy();
      const err = (await seen) as Error & Record<string, unknown>;
      // The engine's deathwatch reads SO_ERROR and hands the kernel's own error to the socket (as under protect()).
      expect(err).toMatchObject({ code: 'ECONNRESET', syscall: 'read' });
      expect(err).not.toHaveProperty('reason');
      expect(c.destroyed).toBe(true);
    } finally {
      c.destroy();
    }
  });
});

describe('failFast on TLS', () => {
  let dir = '';
  let key: Buffer, cert: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tv-ff-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-subj', '/CN=localhost', '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    key = readFileSync(join(dir, 'k.pem'));
    cert = readFileSync(join(dir, 'c.pem'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('applies to the TCP socket under TLS, and never claims more than was written', async () => {
    const srv = tls.createServer({ key, cert }, (s) => { s.on('error', () => {}); s.resume(); });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const c = tls.connect({ port: (srv.address() as net.AddressInfo).port, host: '127.0.0.1', ca: cert, servername: 'localhost' });
    try {
      failFast(c, { timeout: 3000 });
      await new Promise<void>((r, j) => { c.once('secureConnect', r); c.once('error', j); });
      expect(getOptions(c)).toMatchObject(failFastOptions(3000));
      c.write(Buffer.alloc(5000));
      await sleep(50);
      const timedOut = Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' });
      const seen = new Promise<Error>((r) => c.once('error', r));
      c.destroy(timedOut);
      const err = (await seen) as Error & Record<string, unknown>;
      expect(err.unacknowledgedBytes).toBe(0); // all acknowledged: kernel queue and userland empty
    } finally {
      c.destroy();
      await new Promise((r) => srv.close(r));
    }
  });
});
