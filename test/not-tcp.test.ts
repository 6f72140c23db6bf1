/**
 * A Unix-domain net.Socket gets one clear error from every socket API:
 * `getsockopt ENOTSUP (not a TCP socket)` (errno -95), thrown by the entry
 * check of lib/kernel/fd.ts, synchronously or as the rejection of the
 * returned promise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acked, delivery, retain } from '../lib/policy/delivery';
import { failFast } from '../lib/policy/failfast';
import { watch } from '../lib/policy/watch';
import { gracefulClose, reset } from '../lib/policy/close';

const NOT_TCP = { code: 'ENOTSUP', errno: -95, syscall: 'getsockopt', message: 'getsockopt ENOTSUP (not a TCP socket)' };

async function outcome(f: () => unknown): Promise<unknown> {
  try {
    const r = f();
    if (r instanceof Promise) {
      // A promise that never settles is a failure too: bounded wait.
      return await Promise.race([r.then(() => 'resolved'), new Promise((resolve) => setTimeout(() => resolve('pending after 3 s'), 3000))]);
    }
    return 'returned';
  } catch (e) {
    const err = e as { code?: string; errno?: number; syscall?: string; message: string };
    return { code: err.code, errno: err.errno, syscall: err.syscall, message: err.message };
  }
}

describe('a Unix-domain socket: one clear error from every API', () => {
  let dir: string;
  let server: net.Server;
  let client: net.Socket;
  let peer: net.Socket;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tv-unix-'));
    const path = join(dir, 's');
    const accepted = new Promise<net.Socket>((r) => { server = net.createServer(r); });
    await new Promise<void>((r) => server.listen(path, r));
    client = net.connect(path);
    await new Promise((r) => client.once('connect', r));
    peer = await accepted;
    peer.on('data', () => {});
    peer.on('end', () => peer.end());
  });
  afterEach(async () => {
    client.destroy();
    peer.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ['failFast', (s: net.Socket) => failFast(s, { timeout: 5000 })],
    ['watch', (s: net.Socket) => watch(s)],
    ['delivery', (s: net.Socket) => delivery(s)],
    ['acked', (s: net.Socket) => acked(s)],
    ['retain', (s: net.Socket) => retain(s)],
    ['gracefulClose', (s: net.Socket) => gracefulClose(s, { timeout: 2000 })],
    ['reset', (s: net.Socket) => reset(s)],
  ])('%s', async (_name, f) => {
    client.write('x');
    expect(await outcome(() => f(client))).toEqual(NOT_TCP);
    expect(client.destroyed).toBe(false); // left alone
  });
});
