/**
 * Issue 9's real-client matrix, network clients: grpc-js (a grpc-js server),
 * a ws client, a ws SERVER whose client vanishes (TCP_VITALS_SERVERS=1),
 * Node's global fetch, and https.Agent to a TLS server (a self-signed
 * certificate made by openssl here). The peers run in namespace B (one Node
 * process, test/fixtures/clients-peer.js). The clients hold no tcp-vitals
 * code: the protected ones run under `node --require dist/register.js` with
 * TCP_VITALS_TIMEOUT=3000, the baseline ones plainly. After B vanishes, each
 * protected client fails (a) the operation in flight, (b) an operation issued
 * 2 s later on its idle pooled connection and (c) the immediate retry on a
 * fresh connection: (a) and (b) within timeout + 1 s of the last time the
 * peer was heard from, (c) within timeout + 1 s of its issue
 * (helpers/clients-expect.ts); the plain client's operation (a) is still
 * pending at the baseline's bound.
 */
import { ADDR_A, ADDR_B, Child, describeNetns, fixture, NetPair } from './helpers/netns';
import { expectStillPending } from './helpers/servers';
import { registerUnavailableReason, spawnPreloaded } from './helpers/preload';
import { opensslUnavailableReason, selfSignedCert, TestCert } from './helpers/tls';
import { dumpRun, MatrixClient, MatrixRun, ready, runMatrix, table } from './helpers/clients';
import { expectProtected } from './helpers/clients-expect';

const TIMEOUT_MS = 3000;
// Three times the protected bound (timeout + 1 s): a plain client still pending then has
// clearly not been bounded by anything of its own.
const PLAIN_BOUND_MS = 12_000;
const PEER = { host: ADDR_B, grpcPort: 50051, wsPort: 8081, httpPortA: 8082, httpPortB: 8083, httpsPort: 8443 };
const WS_SERVER_PORTS = { protected: 9001, plain: 9002 };
const ENV = { TCP_VITALS_TIMEOUT: String(TIMEOUT_MS) };

describeNetns('real network clients under the preload, their peer vanished', () => {
  let pair: NetPair;
  let cert: TestCert | undefined;
  let peer: Child;
  let run: MatrixRun;

  const start = (pair: NetPair, preloaded: boolean, script: string, config: object, env: NodeJS.ProcessEnv = ENV): Child => (preloaded
    ? spawnPreloaded(pair, pair.a, fixture(script), [JSON.stringify(config)], env)
    : pair.spawnNode(pair.a, fixture(script), [JSON.stringify(config)]));
  const client = (name: string, script: string, config: object): MatrixClient => ({
    name, start: (pair, preloaded) => ready(start(pair, preloaded, script, config)),
  });
  // The ws server runs in A; its clients (in the peer, in B) connect to it, then vanish with B.
  const wsServer: MatrixClient = {
    name: 'ws server',
    start: async (pair, preloaded) => {
      const port = preloaded ? WS_SERVER_PORTS.protected : WS_SERVER_PORTS.plain;
      const child = start(pair, preloaded, 'clients-ws-server.js', { host: ADDR_A, port }, { ...ENV, TCP_VITALS_SERVERS: '1' });
      await child.waitFor((m) => m.type === 'listening', 30_000);
      const url = `ws://${ADDR_A}:${port}`;
      await peer.request({ cmd: 'ws-connect', url, paths: ['/a', '/b', '/c'] }, 'ws-connected', 15_000);
      return ready(child);
    },
  };

  beforeAll(async () => {
    const missing = registerUnavailableReason() ?? opensslUnavailableReason();
    if (missing) throw new Error(missing);
    pair = NetPair.create();
    cert = selfSignedCert(ADDR_B);
    peer = pair.spawnNode(pair.b, fixture('clients-peer.js'), [JSON.stringify({ ...PEER, certPath: cert.certPath, keyPath: cert.keyPath })]);
    await peer.waitFor((m) => m.type === 'listening', 30_000);
    run = await runMatrix(pair, [
      client('grpc-js', 'clients-grpc.js', PEER),
      client('ws', 'clients-ws.js', PEER),
      wsServer,
      client('fetch', 'clients-fetch.js', PEER),
      client('https.Agent', 'clients-https.js', { ...PEER, certPath: cert.certPath }),
    ], TIMEOUT_MS);
  }, 120_000);
  afterAll(() => {
    pair?.destroy();
    cert?.remove();
    if (run) dumpRun(run);
    if (run) console.log(table(`network clients, TCP_VITALS_TIMEOUT=${TIMEOUT_MS} (time from each operation's issue, and from the last time the peer was heard from; ws server c: idle, never written)`, run));
  });

  test('grpc-js: each case fails within timeout + 1 s, status 14 UNAVAILABLE', () => {
    const r = run.clients['grpc-js'].results;
    expectProtected(r, TIMEOUT_MS);
    for (const k of ['a', 'b', 'c'] as const) {
      // Only the status and a details string: the socket's error is not attached, its message
      // is the details (the kernel's "read ETIMEDOUT" / "connect ETIMEDOUT ...", or the
      // preload's own "connection timed out (<reason>): ...", whichever came first).
      expect(r[k].error).toMatchObject({ code: 14, details: expect.stringMatching(/ETIMEDOUT|connection timed out/) });
      expect({ cause: r[k].error.cause, errno: r[k].error.errno, reason: r[k].error.reason }).toEqual({});
    }
  });

  test('ws client: each case fails within timeout + 1 s, close 1006', () => {
    const r = run.clients.ws.results;
    expectProtected(r, TIMEOUT_MS);
    for (const k of ['a', 'b', 'c'] as const) expect(r[k].error).toMatchObject({ closeCode: 1006 });
    // On an open connection ws swallows the socket's error: no 'error' event, only close 1006.
    expect([r.a.clientErrors, r.b.clientErrors]).toEqual([[], []]);
    // A connection that never opened also emits 'error' with the socket's ETIMEDOUT.
    expect(r.c.clientErrors).toEqual([expect.objectContaining({ code: 'ETIMEDOUT', errno: -110 })]);
  });

  test('fetch: each case fails within timeout + 1 s, TypeError "fetch failed"', () => {
    const r = run.clients.fetch.results;
    expectProtected(r, TIMEOUT_MS);
    // The cause is the socket's error (for c not undici's own UND_ERR_CONNECT_TIMEOUT, 10 s).
    for (const k of ['a', 'b', 'c'] as const) {
      expect(r[k].error).toMatchObject({ name: 'TypeError', message: 'fetch failed', cause: { code: 'ETIMEDOUT', errno: -110 } });
    }
  });

  test('https.Agent: each case fails within timeout + 1 s with the socket\'s ETIMEDOUT', () => {
    const r = run.clients['https.Agent'].results;
    expectProtected(r, TIMEOUT_MS);
    for (const k of ['a', 'b', 'c'] as const) expect(r[k].error).toMatchObject({ code: 'ETIMEDOUT', errno: -110 });
  });

  test('ws server (TCP_VITALS_SERVERS=1): a vanished client\'s connection closes within timeout + 1 s of last hearing from it, 1006', () => {
    const r = run.clients['ws server'].results;
    for (const k of ['a', 'b', 'c'] as const) {
      // From the last time the client was heard from (its 'arm' echo, just before the vanish).
      expect({ case: k, settled: !r[k].missing, ok: r[k].ok, withinBound: r[k].sinceArmedMs <= TIMEOUT_MS + 1000, sinceArmedMs: r[k].sinceArmedMs })
        .toMatchObject({ case: k, settled: true, ok: false, withinBound: true });
      expect(r[k].error).toMatchObject({ closeCode: 1006 });
      // ws swallows the socket's error; the socket itself died of ETIMEDOUT.
      expect(r[k].socketError).toMatchObject({ code: 'ETIMEDOUT' });
      expect(r[k].clientErrors).toEqual([]);
    }
    expect(r.b.openAtIssue).toBe(1);
  });

  test(`without the preload, every client's operation (a) is still pending after ${PLAIN_BOUND_MS / 1000} s`, async () => {
    for (const name of ['grpc-js', 'ws', 'ws server', 'fetch', 'https.Agent']) {
      const check = await expectStillPending(run.clients[name].plain, run.goAt, PLAIN_BOUND_MS);
      console.log(`${name} plain: still pending after ${PLAIN_BOUND_MS} ms, ${check.retransmits} retransmissions, ${check.sendQueue} B unacknowledged`);
    }
  }, 30_000);
});
