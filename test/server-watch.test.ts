/**
 * watchServer() on the shared scheduler: a throwing listener never stops the
 * watch of another server (issue 13 item 2), the watch is an emitter of its
 * own events, and `signal` stops it.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import { join } from 'node:path';
import { SERVER_EVENTS, watchServer } from '../lib/policy/server';
import { waitUntil } from './helpers/loopback';

const SERVER = join(__dirname, '..', 'dist', 'policy', 'server');

/** Fills `port`'s accept queue from a child while this event loop is blocked (nothing accepted). */
function connectBlocked(port: number, n: number): void {
  const r = spawnSync(process.execPath, ['-e', `
    const net = require('net'); let n = 0;
    for (let i = 0; i < ${n}; i++) net.connect(${port}, '127.0.0.1', () => { if (++n === ${n}) process.exit(0); });
    setTimeout(() => process.exit(1), 5000);`]);
  expect(r.status).toBe(0);
}

async function listening(backlog: number): Promise<[net.Server, number]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog }, r));
  return [server, (server.address() as net.AddressInfo).port];
}

test("a throwing 'queue-high' listener on one server never stops the watch of another", () => {
  // In a child: the throw is an uncaught exception there (kept alive by a handler), as in a service.
  const script = `
    const net = require('net');
    const { spawnSync } = require('child_process');
    const { watchServer } = require(${JSON.stringify(SERVER)});
    let uncaught = 0;
    process.on('uncaughtException', () => { uncaught++; });
    const a = net.createServer(), b = net.createServer();
    const seen = { a: 0, b: 0 };
    a.on('tcp-vitals:queue-high', () => { seen.a++; throw new Error('listener bug'); });
    b.on('tcp-vitals:queue-high', () => { seen.b++; });
    let up = 0;
    const go = () => {
      if (++up < 2) return;
      watchServer(a, { threshold: 0.5, interval: 20 });
      watchServer(b, { threshold: 0.5, interval: 20 });
      for (const s of [a, b]) spawnSync(process.execPath, ['-e', \`
        const net = require('net'); let n = 0;
        for (let i = 0; i < 2; i++) net.connect(\${s.address().port}, '127.0.0.1', () => { if (++n === 2) process.exit(0); });
        setTimeout(() => process.exit(1), 5000);\`]);
      setTimeout(() => { console.log(JSON.stringify({ seen, uncaught })); process.exit(0); }, 1500);
    };
    a.listen({ port: 0, host: '127.0.0.1', backlog: 2 }, go);
    b.listen({ port: 0, host: '127.0.0.1', backlog: 2 }, go);`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  expect(out.seen.a).toBe(1);
  expect(out.seen.b).toBe(1);
  expect(out.uncaught).toBe(1);
});

test('the watch is an emitter of its own events (events.once works) and a signal stops it', async () => {
  const [a, port] = await listening(2);
  const ac = new AbortController();
  try {
    const w = watchServer(a, { threshold: 0.5, interval: 20, signal: ac.signal });
    const onServer: unknown[] = [];
    a.on(SERVER_EVENTS.queueHigh, (e) => onServer.push(e));
    connectBlocked(port, 2);
    const [high] = await once(w, 'queue-high');
    expect(high).toMatchObject({ pending: 2, backlog: 2, threshold: 0.5 });
    expect(onServer).toEqual([high]);
    ac.abort();
    const seenAfter: unknown[] = [];
    w.on('queue-normal', (e) => seenAfter.push(e));
    await waitUntil(() => a.listening, 100, 'listening');
    await new Promise((r) => setTimeout(r, 200)); // ticks that would have seen queue-normal after the accepts
    expect(seenAfter).toEqual([]);
  } finally {
    a.close();
  }
});

test('an already aborted signal gives a stopped watch; a bad signal is ERR_INVALID_ARG_TYPE', async () => {
  const [a, port] = await listening(2);
  try {
    expect(() => watchServer(a, { signal: {} as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    const seen: unknown[] = [];
    a.on(SERVER_EVENTS.queueHigh, (e) => seen.push(e));
    const w = watchServer(a, { threshold: 0.5, interval: 20, signal: AbortSignal.abort() });
    w.on('queue-high', (e) => seen.push(e));
    connectBlocked(port, 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([]);
  } finally {
    a.close();
  }
});
