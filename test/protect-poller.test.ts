/**
 * The data-outstanding poller of protect(), on real loopback sockets: an fd
 * number reused by a new socket while the old one's entry is still queued
 * must not disarm the new socket (regression: the stale entry cleared the
 * slot's ARMED flag, and the new socket's own entry was then dropped); and
 * the SO_COOKIE the table reads lazily (at the first tick that finds the
 * socket armed, not at registration or arming) is the socket's own, never the one an earlier socket on the
 * same fd number left behind.
 */
import * as net from 'node:net';
import { ArmedPoller } from '../lib/policy/protect/detector';
import { ARMED, Table } from '../lib/policy/protect/table';
import { native } from '../lib/kernel/binding';

const sockets: net.Socket[] = [];
let server: net.Server;
let port = 0;

beforeAll(async () => {
  server = net.createServer({ pauseOnConnect: true }, (s) => { sockets.push(s); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

function connect(): Promise<net.Socket> {
  return new Promise((resolve) => { const s = net.connect(port, '127.0.0.1', () => resolve(s)); sockets.push(s); });
}
const fdOf = (s: net.Socket): number => (s as unknown as { _handle: { fd: number } })._handle.fd;

test('a reused fd number keeps the new socket armed', async () => {
  const table = new Table();
  const poller = new ArmedPoller(table, () => 1000);
  try {
    const a = await connect();
    const fd = fdOf(a);
    table.set(fd, {} as never, a, table.nextTag(), 60_000, 0, 0);
    poller.arm(fd);
    // a goes away; b gets the same fd number before the poller's next tick.
    await new Promise((r) => { a.once('close', r); a.destroy(); });
    table.clear(fd);
    let b: net.Socket | null = null;
    for (let i = 0; i < 20 && !b; i++) {
      const c = await connect();
      if (fdOf(c) === fd) b = c;
    }
    expect(b).not.toBeNull();
    table.set(fd, {} as never, b!, table.nextTag(), 60_000, 0, 0);
    b!.write(Buffer.alloc(8 << 20)); // the peer never reads: data stays outstanding
    await new Promise((r) => setTimeout(r, 50));
    poller.arm(fd);
    expect(poller.size).toBe(2); // the stale entry and b's
    poller.tick();
    expect(poller.size).toBe(1);
    expect(table.flags[fd] & ARMED).toBe(ARMED);
  } finally {
    poller.stop();
  }
});

test('the lazily read cookie is the socket\'s own: a reused fd number never inherits the old one', async () => {
  const table = new Table();
  const poller = new ArmedPoller(table, () => 1000);
  try {
    const a = await connect();
    const fd = fdOf(a);
    const cookieA = native.cookie(fd) as bigint;
    table.set(fd, {} as never, a, table.nextTag(), 60_000, 0, 0);
    expect(table.cookies[fd]).toBe(0n); // registration reads no cookie
    a.write(Buffer.alloc(8 << 20));
    poller.arm(fd);
    expect(table.cookies[fd]).toBe(0n); // arming reads none either (most connections close before a tick)
    poller.tick();
    expect(table.cookies[fd]).toBe(cookieA); // the first tick that found it listed needed it
    expect(poller.size).toBe(1);
    // a closes: what the close hook does (controller.release).
    await new Promise((r) => { a.once('close', r); a.destroy(); });
    poller.disarm(fd);
    table.clear(fd);
    expect(table.cookies[fd]).toBe(0n);
    expect(poller.size).toBe(0);
    let b: net.Socket | null = null;
    for (let i = 0; i < 20 && !b; i++) {
      const c = await connect();
      if (fdOf(c) === fd) b = c;
    }
    expect(b).not.toBeNull();
    const cookieB = native.cookie(fd) as bigint;
    expect(cookieB).not.toBe(cookieA);
    table.set(fd, {} as never, b!, table.nextTag(), 60_000, 0, 0);
    b!.write(Buffer.alloc(8 << 20)); // the peer never reads: data stays outstanding
    await new Promise((r) => setTimeout(r, 50));
    poller.arm(fd);
    expect(table.cookieOf(fd)).toBe(cookieB);
    poller.tick(); // read with b's cookie: errno 0, data outstanding, still watched
    expect(poller.size).toBe(1);
    expect(table.flags[fd] & ARMED).toBe(ARMED);
  } finally {
    poller.stop();
  }
});
