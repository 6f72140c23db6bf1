/**
 * listenQueue() and watchServer() against real listening sockets on loopback,
 * including a server whose event loop is blocked while clients connect.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenCounters, listenQueue, SERVER_EVENTS, watchServer } from '../lib/policy/server';
import { sleep, waitUntil } from './helpers/loopback';
import { Child, fixture } from './helpers/netns';

const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));

async function listening(server: net.Server, backlog?: number): Promise<number> {
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog }, r));
  return (server.address() as net.AddressInfo).port;
}

describe('listenQueue()', () => {
  test('backlog is listen()\'s argument as Node passes it, clamped by net.core.somaxconn', async () => {
    for (const [asked, expected] of [[4, 4], [undefined, Math.min(511, somaxconn)], [somaxconn + 1000, somaxconn]] as const) {
      const server = net.createServer();
      try {
        await listening(server, asked);
        expect(listenQueue(server)).toEqual({ pending: 0, backlog: expected });
      } finally {
        server.close();
      }
    }
  });

  test('pending counts connections the application has not accepted yet', async () => {
    const server = net.createServer();
    // Clients connect from a child while this event loop is blocked in spawnSync: nothing is accepted.
    const port = await listening(server, 8);
    const clients = spawnSync(process.execPath, ['-e', `
      const net = require('net'); let n = 0;
      for (let i = 0; i < 3; i++) net.connect(${port}, '127.0.0.1', () => { if (++n === 3) process.exit(0); });
      setTimeout(() => process.exit(1), 5000);`]);
    // The clients connected (handshakes done by the kernel) while this event loop was blocked in spawnSync.
    expect(clients.status).toBe(0);
    expect(listenQueue(server)).toEqual({ pending: 3, backlog: 8 });
    server.close();
  });

  test('bad arguments and states', () => {
    expect(() => listenQueue({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => listenQueue(new net.Server())).toThrow(expect.objectContaining({ code: 'ERR_SERVER_NOT_RUNNING' }));
    expect(() => listenQueue(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => watchServer(new net.Server(), { threshold: 0 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => watchServer(new net.Server(), { threshold: '1' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => watchServer(new net.Server(), { interval: 5 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => watchServer({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  test('an fd that is not a listening socket is refused', async () => {
    const server = net.createServer();
    const port = await listening(server);
    const client = net.connect(port, '127.0.0.1');
    try {
      await new Promise((r) => client.once('connect', r));
      const fd = (client as unknown as { _handle: { fd: number } })._handle.fd;
      expect(() => listenQueue(fd)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    } finally {
      client.destroy();
      server.close();
    }
  });

  test('listenCounters() reads this namespace\'s TcpExt counters', () => {
    const c = listenCounters();
    expect(c.listenDrops).toBeGreaterThanOrEqual(c.listenOverflows);
    expect(Number.isInteger(c.listenOverflows)).toBe(true);
  });
});

describe('watchServer()', () => {
  test('a blocked server with backlog 4: 20 clients leave pending 5, then overflow and queue events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tv-srv-'));
    const flag = join(dir, 'unblock');
    const proc = spawn(process.execPath, [fixture('server-blocked.js'), flag, '4'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const child = new Child(proc);
    const clients: net.Socket[] = [];
    try {
      const { port } = await child.waitFor((m) => m.type === 'listening', 10_000);
      let connected = 0;
      for (let i = 0; i < 20; i++) {
        const c = net.connect(port, '127.0.0.1', () => { connected++; });
        c.on('error', () => {});
        clients.push(c);
      }
      // The kernel completes handshakes into the accept queue (backlog + 1 = 5 entries), drops the other SYNs.
      await waitUntil(() => connected >= 5, 5000, 'five handshakes');
      await sleep(300);
      expect(connected).toBe(5);
      writeFileSync(flag, '');

      const { queue, accepted } = await child.waitFor((m) => m.type === 'queue', 20_000);
      expect(accepted).toBe(0);
      expect(queue).toEqual({ pending: 5, backlog: 4 });

      const overflow = await child.waitFor((m) => m.type === 'event' && m.name === SERVER_EVENTS.overflow, 5000);
      // 15 SYNs found the queue full (more if clients retransmitted); the counters are namespace-wide.
      expect(overflow.payload.listenOverflows).toBeGreaterThanOrEqual(15);
      expect(overflow.payload.listenDrops).toBeGreaterThanOrEqual(overflow.payload.listenOverflows);
      const high = await child.waitFor((m) => m.type === 'event' && m.name === SERVER_EVENTS.queueHigh, 5000);
      expect(high.payload).toMatchObject({ backlog: 4, threshold: 0.8 });
      expect(high.payload.pending).toBeGreaterThanOrEqual(4);
      await child.waitFor((m) => m.type === 'event' && m.name === SERVER_EVENTS.queueNormal, 5000);
    } finally {
      for (const c of clients) c.destroy();
      child.send({ cmd: 'exit' });
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);

  test('never keeps the process alive, stops on close', () => {
    for (const mode of ['close', 'unref']) {
      const r = spawnSync(process.execPath, [fixture('server-exit.js'), mode], { timeout: 10_000 });
      expect({ mode, status: r.status, signal: r.signal }).toEqual({ mode, status: 0, signal: null });
    }
  });

  test('stop() ends the watch; events go to the watched server only', async () => {
    const a = net.createServer();
    const b = net.createServer();
    await listening(a, 2);
    await listening(b, 64);
    const seen: string[] = [];
    a.on(SERVER_EVENTS.queueHigh, () => seen.push('a'));
    b.on(SERVER_EVENTS.queueHigh, () => seen.push('b'));
    const wa = watchServer(a, { threshold: 0.5, interval: 20 });
    const wb = watchServer(b, { threshold: 0.5, interval: 20 });
    const port = (a.address() as net.AddressInfo).port;
    const r = spawnSync(process.execPath, ['-e', `
      const net = require('net'); let n = 0;
      for (let i = 0; i < 2; i++) net.connect(${port}, '127.0.0.1', () => { if (++n === 2) process.exit(0); });
      setTimeout(() => process.exit(1), 5000);`]);
    expect(r.status).toBe(0);
    expect(listenQueue(a).pending).toBe(2);
    // The watch ticks before the poll phase accepts: a is seen high, b never.
    await waitUntil(() => seen.includes('a'), 2000, "a's queue-high event");
    wa.stop();
    wb.stop();
    wa.stop();
    expect(seen).toEqual(['a']);
    a.close();
    b.close();
  });
});
