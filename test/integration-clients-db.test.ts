/**
 * Issue 9's real-client matrix, databases: pg + PostgreSQL, mysql2 + MariaDB,
 * ioredis + redis-server, each server in namespace B. The clients hold no
 * tcp-vitals code: the protected ones run under `node --require
 * dist/register.js` with TCP_VITALS_TIMEOUT=3000, the baseline ones plainly.
 * After B vanishes, each protected client fails (a) the operation in flight,
 * (b) an operation issued 2 s later on its idle pooled connection and (c) the
 * immediate retry on a fresh connection: (a) and (b) within timeout + 1 s of
 * the last time the peer was heard from, (c) within timeout + 1 s of its
 * issue (helpers/clients-expect.ts); the plain client's operation (a) is
 * still pending at the baseline's bound.
 */
import { ADDR_B, describeNetns, fixture, NetPair } from './helpers/netns';
import {
  expectStillPending, mariadbUnavailableReason, postgresUnavailableReason, redisUnavailableReason,
  startMariadb, startPostgres, startRedis, TestServer,
} from './helpers/servers';
import { registerUnavailableReason, spawnPreloaded } from './helpers/preload';
import { dumpRun, MatrixClient, MatrixRun, ready, runMatrix, table } from './helpers/clients';
import { expectProtected } from './helpers/clients-expect';

const TIMEOUT_MS = 3000;
// Three times the protected bound (timeout + 1 s): a plain client still pending then has
// clearly not been bounded by anything of its own.
const PLAIN_BOUND_MS = 12_000;
const PORTS = { pg: 5432, mysql: 3306, redis: 6379 };

const client = (name: string, script: string, config: object): MatrixClient => ({
  name,
  start: (pair, preloaded) => ready(preloaded
    ? spawnPreloaded(pair, pair.a, fixture(script), [JSON.stringify(config)], { TCP_VITALS_TIMEOUT: String(TIMEOUT_MS) })
    : pair.spawnNode(pair.a, fixture(script), [JSON.stringify(config)])),
});

describeNetns('real database clients under the preload, their server vanished', () => {
  let pair: NetPair;
  const servers: TestServer[] = [];
  let run: MatrixRun;
  beforeAll(async () => {
    const missing = registerUnavailableReason() ?? postgresUnavailableReason() ?? mariadbUnavailableReason() ?? redisUnavailableReason();
    if (missing) throw new Error(missing);
    pair = NetPair.create();
    // Every server that started is stopped by afterAll, also when another failed to start.
    const starts = await Promise.allSettled([
      startPostgres(pair.b, ADDR_B, '10.213.7.0/24', PORTS.pg),
      startMariadb(pair.b, ADDR_B, PORTS.mysql),
      startRedis(pair.b, ADDR_B, PORTS.redis),
    ]);
    for (const s of starts) if (s.status === 'fulfilled') servers.push(s.value);
    for (const s of starts) if (s.status === 'rejected') throw s.reason;
    run = await runMatrix(pair, [
      client('pg', 'clients-pg.js', { host: ADDR_B, port: PORTS.pg }),
      client('mysql2', 'clients-mysql2.js', { host: ADDR_B, port: PORTS.mysql }),
      client('ioredis', 'clients-ioredis.js', { host: ADDR_B, port: PORTS.redis }),
    ], TIMEOUT_MS);
  }, 120_000);
  afterAll(() => {
    for (const s of servers) s.stop();
    pair?.destroy();
    if (run) dumpRun(run);
    if (run) console.log(table(`databases, TCP_VITALS_TIMEOUT=${TIMEOUT_MS} (time from each operation's issue, and from the last time the peer was heard from)`, run));
  });

  test('pg: each case fails within timeout + 1 s with the socket\'s ETIMEDOUT', () => {
    const r = run.clients.pg.results;
    expectProtected(r, TIMEOUT_MS);
    // pg rejects the query (or connect()) with the socket's own error: the kernel's
    // (syscall 'read'/'connect') or the preload's (syscall 'tcp-vitals'), reason attached.
    for (const k of ['a', 'b', 'c'] as const) expect(r[k].error).toMatchObject({ code: 'ETIMEDOUT', errno: -110, reason: expect.any(String) });
  });

  test('mysql2: each case fails within timeout + 1 s with a fatal ETIMEDOUT', () => {
    const r = run.clients.mysql2.results;
    expectProtected(r, TIMEOUT_MS);
    // The socket's error, marked fatal. For c the numeric errno tells it from mysql2's own
    // connectTimeout (10 s), which raises code 'ETIMEDOUT' too but with no errno.
    for (const k of ['a', 'b', 'c'] as const) expect(r[k].error).toMatchObject({ code: 'ETIMEDOUT', errno: -110, fatal: true });
  });

  test('ioredis: each case fails within timeout + 1 s; the cause, ETIMEDOUT, on \'error\'', () => {
    const r = run.clients.ioredis.results;
    expectProtected(r, TIMEOUT_MS);
    // A reconnects (retryStrategy 0) and maxRetriesPerRequest is 0: the command is rejected
    // with ioredis' own MaxRetriesPerRequestError when its connection closes. B does not
    // reconnect (retryStrategy null): ioredis ends it and rejects with "Connection is closed.".
    expect(r.a.error).toMatchObject({ name: 'MaxRetriesPerRequestError' });
    expect(r.b.error).toMatchObject({ message: 'Connection is closed.' });
    expect(r.c.error).toMatchObject({ name: 'MaxRetriesPerRequestError' });
    for (const k of ['a', 'b', 'c'] as const) {
      expect(r[k].clientErrors).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'ETIMEDOUT', errno: -110 })]));
    }
  });

  test(`without the preload, every client's operation (a) is still pending after ${PLAIN_BOUND_MS / 1000} s`, async () => {
    for (const name of ['pg', 'mysql2', 'ioredis']) {
      const check = await expectStillPending(run.clients[name].plain, run.goAt, PLAIN_BOUND_MS);
      console.log(`${name} plain: still pending after ${PLAIN_BOUND_MS} ms, ${check.retransmits} retransmissions, ${check.sendQueue} B unacknowledged`);
    }
  }, 30_000);
});
