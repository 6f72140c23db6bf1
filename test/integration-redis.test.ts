/**
 * ioredis against a real redis-server whose host vanishes (no FIN, no RST):
 * with failFast on the connection socket a command fails within the timeout;
 * without it, the same command is still pending when the test's bound ends.
 */
import { ADDR_B, describeNetns, fixture, NetPair } from './helpers/netns';
import { expectStillPending, redisUnavailableReason, startRedis, TestServer } from './helpers/servers';

const TIMEOUT_MS = 3000;
const PLAIN_BOUND_MS = 15_000;

describeNetns('ioredis: a command to a vanished Redis', () => {
  let pair: NetPair;
  let redis: TestServer | undefined;
  beforeAll(async () => {
    const missing = redisUnavailableReason();
    if (missing) throw new Error(missing);
    pair = NetPair.create();
    redis = await startRedis(pair.b, ADDR_B, 6379);
  }, 30_000);
  afterAll(() => {
    redis?.stop();
    pair?.destroy();
  });

  test(`fails within timeout + 1 s with failFast, is still pending after ${PLAIN_BOUND_MS / 1000} s without`, async () => {
    const fast = pair.spawnNode(pair.a, fixture('redis-client.js'), [ADDR_B, '6379', 'failfast', String(TIMEOUT_MS)]);
    const plain = pair.spawnNode(pair.a, fixture('redis-client.js'), [ADDR_B, '6379', 'plain', String(TIMEOUT_MS)]);
    expect((await fast.waitFor((m) => m.type === 'ready', 15_000)).value).toBe('hello');
    expect((await plain.waitFor((m) => m.type === 'ready', 15_000)).value).toBe('hello');

    pair.vanish();
    const goAt = Date.now();
    fast.send({ cmd: 'go' });
    plain.send({ cmd: 'go' });

    const result = await fast.waitFor((m) => m.type === 'result', TIMEOUT_MS + 5000);
    expect(result.ok).toBe(false);
    expect(result.elapsedMs).toBeLessThanOrEqual(TIMEOUT_MS + 1000);
    // ioredis rejects the command itself with its own error (maxRetriesPerRequest);
    // the cause, failFast's error, reached the client's 'error' event.
    expect(result.errors).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'ETIMEDOUT', reason: 'retransmit' })]));

    const check = await expectStillPending(plain, goAt, PLAIN_BOUND_MS);
    console.log(`ioredis: failFast(${TIMEOUT_MS} ms) rejected after ${Math.round(result.elapsedMs)} ms (${result.message}); ` +
      `plain still pending after ${PLAIN_BOUND_MS} ms, ${check.retransmits} retransmissions, ${check.sendQueue} B unacknowledged`);
  }, 60_000);
});
