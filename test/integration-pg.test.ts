/**
 * pg against a real PostgreSQL whose host vanishes (no FIN, no RST): with
 * failFast on the client's socket a query fails within the timeout with
 * failFast's error; without it, the query is still pending at the bound.
 */
import { ADDR_B, describeNetns, fixture, NetPair } from './helpers/netns';
import { expectStillPending, postgresUnavailableReason, startPostgres, TestServer } from './helpers/servers';

const TIMEOUT_MS = 3000;
const PLAIN_BOUND_MS = 15_000;

describeNetns('pg: a query to a vanished PostgreSQL', () => {
  let pair: NetPair;
  let pg: TestServer | undefined;
  beforeAll(async () => {
    const missing = postgresUnavailableReason();
    if (missing) throw new Error(missing);
    pair = NetPair.create();
    pg = await startPostgres(pair.b, ADDR_B, '10.213.7.0/24', 5432);
  }, 60_000);
  afterAll(() => {
    pg?.stop();
    pair?.destroy();
  });

  test(`fails within timeout + 1 s with failFast, is still pending after ${PLAIN_BOUND_MS / 1000} s without`, async () => {
    const fast = pair.spawnNode(pair.a, fixture('pg-client.js'), [ADDR_B, '5432', 'failfast', String(TIMEOUT_MS)]);
    const plain = pair.spawnNode(pair.a, fixture('pg-client.js'), [ADDR_B, '5432', 'plain', String(TIMEOUT_MS)]);
    expect((await fast.waitFor((m) => m.type === 'ready', 15_000)).value).toBe(1);
    expect((await plain.waitFor((m) => m.type === 'ready', 15_000)).value).toBe(1);

    pair.vanish();
    const goAt = Date.now();
    fast.send({ cmd: 'go' });
    plain.send({ cmd: 'go' });

    const result = await fast.waitFor((m) => m.type === 'result', TIMEOUT_MS + 5000);
    expect(result.ok).toBe(false);
    expect(result.elapsedMs).toBeLessThanOrEqual(TIMEOUT_MS + 1000);
    // pg rejects the active query with the socket's error: failFast's own.
    expect(result.code).toBe('ETIMEDOUT');
    expect(result.reason).toBe('retransmit');
    expect(result.unacknowledgedBytes).toBeGreaterThan(0);

    const check = await expectStillPending(plain, goAt, PLAIN_BOUND_MS);
    console.log(`pg: failFast(${TIMEOUT_MS} ms) rejected after ${Math.round(result.elapsedMs)} ms (${result.message}); ` +
      `plain still pending after ${PLAIN_BOUND_MS} ms, ${check.retransmits} retransmissions, ${check.sendQueue} B unacknowledged`);
  }, 60_000);
});
