/**
 * failFast across happy-eyeballs connection attempts (issue 9): each
 * attempt's socket is watched by its SO_COOKIE, so an attempt that gets the
 * fd number of the failed one is re-attached, not read as ESTALE and
 * dropped. Loopback: a lookup returning [::1, 127.0.0.1] to a server on
 * 127.0.0.1 only, so ::1 refuses at once and the next attempt usually gets
 * the same fd number.
 */
import { LookupFunction } from 'node:net';
import * as net from 'node:net';
import { failFast } from '../lib/policy/failfast';
import { getOptions } from '../lib/kernel/options';
import { failFastOptions } from '../lib/model/failfast-settings';

const dualStack: LookupFunction = (_host, opts, cb) => {
  if ((opts as { all?: boolean }).all) {
    (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
      { address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 },
    ]);
  } else {
    cb(null, '::1', 6);
  }
};

async function listening(onPeer: (p: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer((p) => { p.on('error', () => {}); onPeer(p); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

test('after a refused ::1 attempt, a paused socket reset by the peer still gets its error', async () => {
  const peers: net.Socket[] = [];
  const server = await listening((p) => peers.push(p));
  const c = net.connect({ host: 'dual.test', port: (server.address() as net.AddressInfo).port, lookup: dualStack, autoSelectFamily: true });
  const failed: string[] = [];
  c.on('connectionAttemptFailed', (ip: string) => failed.push(ip));
  try {
    failFast(c, { timeout: 2000, pollInterval: 50 });
    await new Promise<void>((r, j) => { c.once('connect', () => { c.pause(); r(); }); c.once('error', j); });
    expect(failed).toEqual(['::1']);
    expect(c.remoteAddress).toBe('127.0.0.1');
    expect(getOptions(c)).toMatchObject(failFastOptions(2000)); // the options are on the attempt that connected
    for (let i = 0; i < 200 && peers.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const seen = new Promise<Error>((r) => c.once('error', r));
    peers[0].resetAndDestroy();
    const err = await Promise.race([seen, new Promise<null>((r) => setTimeout(() => r(null), 6000))]);
    expect(err).toMatchObject({ code: 'ECONNRESET', syscall: 'read' });
  } finally {
    c.destroy();
    server.close();
  }
});
