/**
 * protect() (preload only) must not kill live connections: a path with 10 %
 * random loss each way at timeout 5 s, and a partition that heals before the
 * timeout. Why the rule is safe: a connection is declared dead only after
 * `timeout` with no ACK and no data from the peer while data is outstanding
 * (or by the kernel's own user timeout/keepalive verdict). With
 * TCP_RTO_MAX_MS = timeout/5 (at least 1 s) the kernel retransmits at least
 * every second instead of backing off to 3.2 s, 6.4 s, ...: within 5 s of
 * silence a live peer gets >= 6 retransmissions, each answered with
 * probability 0.81 at 10 % loss each way, so a false verdict needs ~6
 * consecutive lost round trips (p ~ 0.19^6 ~ 5e-5 per loss episode).
 */
import { join } from 'node:path';
import { ADDR_B, Child, describeNetns, fixture, NetPair } from './helpers/netns';

const PORT = 7200;
const REGISTER = join(__dirname, '..', 'dist', 'register.js');
const pairs: NetPair[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(timeout: number, extra: Record<string, unknown>) {
  const pair = NetPair.create();
  pairs.push(pair);
  const peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, String(PORT)]);
  await peer.waitFor((m) => m.type === 'listening', 10_000);
  const client = pair.spawnNode(pair.a, '--require', [REGISTER, fixture('protect-client.js'),
    JSON.stringify({ host: ADDR_B, port: PORT, mode: 'write', ...extra })], { TCP_VITALS_TIMEOUT: `${timeout / 1000}s` });
  await client.waitFor((m) => m.type === 'connected', 10_000);
  await peer.waitFor((m) => m.type === 'accepted', 10_000);
  return { pair, peer, client };
}

async function finish(client: Child, peer: Child, boundMs: number): Promise<[number, number]> {
  client.send({ cmd: 'end' });
  const { written } = await client.waitFor((m) => m.type === 'finished', boundMs);
  const deadline = Date.now() + boundMs;
  let received = (await peer.request({ cmd: 'stats' }, 'stats', 5000)).received;
  while (received < written && Date.now() < deadline) {
    await sleep(100);
    received = (await peer.request({ cmd: 'stats' }, 'stats', 5000)).received;
  }
  return [written, received];
}

describeNetns('protect (preload only): no false deaths', () => {
  afterAll(() => { for (const p of pairs) p.destroy(); });

  test.concurrent('10 % random loss each way for 20 s at timeout 5 s: no error, every byte arrives', async () => {
    const { pair, peer, client } = await start(5000, { chunk: 1000, every: 20 });
    pair.loss(10);
    await sleep(20_000);
    const stats = await client.request({ cmd: 'stats' }, 'stats', 5000);
    const [written, received] = await finish(client, peer, 30_000);
    expect(client.messages.filter((m) => m.type === 'error' || m.type === 'death')).toEqual([]);
    expect(stats.deaths).toEqual({});
    expect(stats.protectedNow).toBe(1);
    expect(written).toBeGreaterThan(500_000);
    expect(received).toBe(written);
  }, 90_000);

  test.concurrent('a partition that heals 2.5 s into a 5 s timeout: no error, every byte arrives', async () => {
    const { pair, peer, client } = await start(5000, { chunk: 1000, every: 20 });
    await sleep(500);
    pair.vanish();
    await sleep(2500);
    pair.heal();
    await sleep(3000);
    const [written, received] = await finish(client, peer, 20_000);
    expect(client.messages.filter((m) => m.type === 'error')).toEqual([]);
    expect(received).toBe(written);
  }, 60_000);
});
