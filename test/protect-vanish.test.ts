/**
 * protect() through the preload only (`node --require dist/register.js`),
 * against the real kernel: the peer in namespace B vanishes (nftables drops
 * everything) while the client in A is sending, idle, idle and then written
 * to, paused, or still connecting. Every death must reach the application
 * within `timeout` (+ the poll interval) of the last moment the peer was
 * heard from, as a PeerGoneError, and be published on tcp-vitals:death.
 */
import { join } from 'node:path';
import { ADDR_B, Child, describeNetns, fixture, NetPair } from './helpers/netns';

const PORT = 7100;
const TIMEOUT = 3000;
const POLL = 300; // pollIntervalFor(3000)
const SLACK_MS = 1000; // the bound: within timeout + 1 s
const REGISTER = join(__dirname, '..', 'dist', 'register.js');
const pairs: NetPair[] = [];
const clock = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Scenario { pair: NetPair; peer: Child; client: Child }

async function start(mode: string, extra: Record<string, unknown> = {}, vanishFirst = false, viaNodeOptions = false): Promise<Scenario> {
  const pair = NetPair.create();
  pairs.push(pair);
  const peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, String(PORT)]);
  await peer.waitFor((m) => m.type === 'listening', 10_000);
  if (vanishFirst) pair.vanish();
  const cfg = JSON.stringify({ host: ADDR_B, port: PORT, mode, ...extra });
  const env = { TCP_VITALS_TIMEOUT: `${TIMEOUT / 1000}s`, ...(viaNodeOptions ? { NODE_OPTIONS: `--require ${REGISTER}` } : {}) };
  const client = viaNodeOptions
    ? pair.spawnNode(pair.a, fixture('protect-client.js'), [cfg], env)
    : pair.spawnNode(pair.a, '--require', [REGISTER, fixture('protect-client.js'), cfg], env);
  if (!vanishFirst) await client.waitFor((m) => m.type === 'connected', 10_000);
  return { pair, peer, client };
}

async function expectDeath(s: Scenario, from: number, reasons: string[]) {
  const err = await s.client.waitFor((m) => m.type === 'error', TIMEOUT + SLACK_MS + 5000);
  expect(err.code).toBe('ETIMEDOUT');
  expect(reasons).toContain(err.reason);
  expect(err.at - from).toBeLessThanOrEqual(TIMEOUT + SLACK_MS);
  // The bound counted from the last moment the peer was heard from.
  expect(typeof err.silentMs).toBe('number');
  expect(err.silentMs).toBeLessThanOrEqual(TIMEOUT + POLL + 250);
  // diagnose()'s verdict of the last reading rides on the error: a vanished host is the network.
  expect({ verdict: err.verdict, evidence: err.evidence }).toMatchObject({ verdict: 'network', evidence: expect.stringContaining("the network or the peer's host is gone") });
  const death = await s.client.waitFor((m) => m.type === 'death', 2000);
  expect(death).toMatchObject({ code: 'ETIMEDOUT', reason: err.reason, same: true });
  const stats = await s.client.request({ cmd: 'stats' }, 'stats', 5000);
  expect(stats.deaths[err.reason]).toBe(1);
  expect(stats.detectionLatency.count).toBe(1);
  return err;
}

describeNetns('protect (preload only): the peer vanishes', () => {
  afterAll(() => { for (const p of pairs) p.destroy(); });

  test.concurrent('while sending: ETIMEDOUT within timeout of the last ACK', async () => {
    const s = await start('write', { chunk: 1000, every: 20 });
    await sleep(500);
    s.pair.vanish();
    const at = clock();
    await expectDeath(s, at, ['retransmit']);
  });

  test.concurrent('idle: ETIMEDOUT within timeout of the last keepalive answer (kernel verdict via the deathwatch)', async () => {
    const s = await start('idle');
    await sleep(300);
    s.pair.vanish();
    const at = clock();
    await expectDeath(s, at, ['keepalive']);
  });

  test.concurrent('idle, then written to 2 s after the vanish: still within timeout of the vanish (not timeout after the write)', async () => {
    const s = await start('idle-write', {}, false, true);
    await sleep(300);
    s.pair.vanish();
    const at = clock();
    await sleep(2000);
    s.client.send({ cmd: 'write' });
    const err = await expectDeath(s, at, ['retransmit', 'keepalive']);
    expect(err.at - at).toBeLessThan(TIMEOUT + SLACK_MS); // plain TCP_USER_TIMEOUT: ~5.2 s here
  });

  test.concurrent('paused (Node not reading): the kernel verdict still reaches the application', async () => {
    const s = await start('paused');
    await sleep(300);
    s.pair.vanish();
    const at = clock();
    await expectDeath(s, at, ['keepalive']);
  });

  test.concurrent('HTTP/2 (grpc-js transport): idle session, a request 2 s after the vanish fails within timeout of the vanish', async () => {
    const pair = NetPair.create();
    pairs.push(pair);
    const peer = pair.spawnNode(pair.b, fixture('protect-h2-peer.js'), [ADDR_B, String(PORT)]);
    await peer.waitFor((m) => m.type === 'listening', 10_000);
    const client = pair.spawnNode(pair.a, '--require', [REGISTER, fixture('protect-h2-client.js'), JSON.stringify({ host: ADDR_B, port: PORT })],
      { TCP_VITALS_TIMEOUT: `${TIMEOUT / 1000}s` });
    await client.waitFor((m) => m.type === 'response', 10_000);
    await sleep(300);
    pair.vanish();
    const at = clock();
    await sleep(2000);
    client.send({ cmd: 'request' });
    const err = await client.waitFor((m) => m.type === 'error', TIMEOUT + SLACK_MS + 5000);
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.at - at).toBeLessThanOrEqual(TIMEOUT + SLACK_MS);
  });

  test.concurrent('connecting to a silent host: connect() fails within timeout', async () => {
    const s = await start('connect', {}, true);
    const at = clock();
    const err = await s.client.waitFor((m) => m.type === 'error', TIMEOUT + SLACK_MS + 5000);
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.reason).toBe('retransmit');
    expect(err.at - at).toBeLessThanOrEqual(TIMEOUT + SLACK_MS);
    expect(s.client.messages.some((m) => m.type === 'connected')).toBe(false);
  });
});
