/**
 * protect({ servers: true }) through the preload (TCP_VITALS_SERVERS=1),
 * against the real kernel: a server in namespace B accepts a connection from
 * a client in namespace A, the client's host vanishes (nftables drops
 * everything), and the server must see the death within `timeout` (+ 1 s) as
 * a PeerGoneError published on tcp-vitals:death. The accepted socket's
 * options come from the listener (no per-socket option call is made), and it
 * joins the deathwatch only once Node stops reading it ('paused').
 */
import { ADDR_B, Child, describeNetns, fixture, NetPair } from './helpers/netns';
import { join } from 'node:path';

const PORT = 7140;
const TIMEOUT = 3000;
const SLACK_MS = 1000;
const REGISTER = join(__dirname, '..', 'dist', 'register.js');
const pairs: NetPair[] = [];
const clock = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The client in namespace A: connects (and for 'http', makes one keep-alive request), then idles.
const CLIENT = `
const net = require('node:net'); const http = require('node:http');
const [host, port, mode] = process.argv.slice(1);
if (mode === 'http') {
  const agent = new http.Agent({ keepAlive: true });
  http.get({ host, port: Number(port), agent }, (res) => { res.resume(); res.on('end', () => process.send({ type: 'connected' })); });
} else {
  const s = net.connect(Number(port), host, () => {
    if (mode === 'full') s.write(Buffer.alloc(1 << 20)); // more than the server reads before it stops
    process.send({ type: 'connected' });
  });
  s.on('data', () => {}); s.on('error', () => {});
}
process.on('disconnect', () => process.exit(0));
`;

async function scenario(mode: string): Promise<{ pair: NetPair; server: Child; accepted: any }> {
  const pair = NetPair.create();
  pairs.push(pair);
  const server = pair.spawnNode(pair.b, '--require', [REGISTER, fixture('protect-server.js'), ADDR_B, String(PORT), mode],
    { TCP_VITALS_TIMEOUT: `${TIMEOUT / 1000}s`, TCP_VITALS_SERVERS: '1' });
  await server.waitFor((m) => m.type === 'listening', 10_000);
  const client = pair.spawnNode(pair.a, '-e', [CLIENT, ADDR_B, String(PORT), mode]);
  await client.waitFor((m) => m.type === 'connected', 10_000);
  const accepted = await server.waitFor((m) => m.type === 'accepted', 10_000);
  return { pair, server, accepted };
}

async function expectDeath(server: Child, from: number, reasons: string[]): Promise<void> {
  const err = await server.waitFor((m) => m.type === 'error', TIMEOUT + SLACK_MS + 5000);
  expect(err.code).toBe('ETIMEDOUT');
  expect(reasons).toContain(err.reason);
  expect(err.at - from).toBeLessThanOrEqual(TIMEOUT + SLACK_MS);
  expect(typeof err.silentMs).toBe('number');
  const death = await server.waitFor((m) => m.type === 'death', 2000);
  expect(death).toMatchObject({ code: 'ETIMEDOUT', reason: err.reason, same: true });
  const stats = await server.request({ cmd: 'stats' }, 'stats', 5000);
  expect(stats.deaths[err.reason]).toBe(1);
}

/** The accepted socket carries protect()'s options, got from the listener: no per-socket option call. */
function expectInherited(accepted: any): void {
  expect(accepted.listener).toBe(TIMEOUT - 200);
  expect(accepted.options).toEqual({ keepAlive: true, keepAliveIdle: Math.max(1000, Math.floor(TIMEOUT / 2000) * 1000), userTimeout: TIMEOUT - 200 });
  expect(accepted.applies).toBe(0);
}

describeNetns('protect({ servers: true }): the client of an accepted connection vanishes', () => {
  afterAll(() => { for (const p of pairs) p.destroy(); });

  test.concurrent('idle, read by Node: ETIMEDOUT within timeout (keepalive, options inherited from the listener)', async () => {
    const s = await scenario('read');
    expectInherited(s.accepted);
    await sleep(300);
    s.pair.vanish(s.pair.a); // the client's host
    await expectDeath(s.server, clock(), ['keepalive']);
  });

  test.concurrent('pauseOnConnect (Node never reads it): the deathwatch delivers the verdict', async () => {
    const s = await scenario('paused');
    expectInherited(s.accepted);
    expect(s.accepted.reading).toBe(false);
    await sleep(300);
    s.pair.vanish(s.pair.a); // the client's host
    await expectDeath(s.server, clock(), ['keepalive']);
  });

  test.concurrent('paused until its buffer filled (Node stopped reading): the deathwatch delivers the verdict', async () => {
    const s = await scenario('full');
    expectInherited(s.accepted);
    expect(s.accepted.reading).toBe(false);
    await sleep(300);
    s.pair.vanish(s.pair.a); // the client's host
    await expectDeath(s.server, clock(), ['keepalive']);
  });

  test.concurrent('the server is writing: ETIMEDOUT within timeout of the last ACK', async () => {
    const s = await scenario('write');
    expectInherited(s.accepted);
    await sleep(500);
    s.pair.vanish(s.pair.a); // the client's host
    await expectDeath(s.server, clock(), ['retransmit']);
  });

  test.concurrent('an http keep-alive connection idle after a response', async () => {
    const s = await scenario('http');
    expectInherited(s.accepted);
    await sleep(300);
    s.pair.vanish(s.pair.a); // the client's host
    await expectDeath(s.server, clock(), ['keepalive']);
  });
});
