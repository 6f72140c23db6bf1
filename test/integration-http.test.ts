/**
 * HTTP clients against a node http server whose host vanishes mid-request:
 * http.Agent (FailFastAgent) and undici (failFastConnector) fail within the
 * timeout; the same clients without tcp-vitals are still waiting at the bound.
 * All five clients run at once against one server.
 */
import { ADDR_B, Child, describeNetns, fixture, NetPair } from './helpers/netns';

const TIMEOUT_MS = 3000;
const PLAIN_BOUND_MS = 15_000;
const PORT = '8080';

describeNetns('http.Agent and undici against a server that vanishes mid-request', () => {
  let pair: NetPair;
  let server: Child;
  beforeAll(async () => {
    pair = NetPair.create();
    server = pair.spawnNode(pair.b, fixture('http-server.js'), [ADDR_B, PORT]);
    await server.waitFor((m) => m.type === 'listening', 10_000);
  });
  afterAll(() => pair?.destroy());

  test('failFast clients fail within timeout + 1 s; plain ones still wait after the bound', async () => {
    const modes = ['agent-plain', 'agent-failfast', 'undici-plain', 'undici-failfast', 'agent-pool'] as const;
    const clients = Object.fromEntries(modes.map((mode) =>
      [mode, pair.spawnNode(pair.a, fixture('http-client.js'), [ADDR_B, PORT, mode, String(TIMEOUT_MS)])])) as Record<typeof modes[number], Child>;
    for (const mode of modes) await clients[mode].waitFor((m) => m.type === 'sent', 10_000);
    // every request has reached the server (upload, upload, wait, wait, ok)
    for (let i = 0; i < 100 && server.messages.filter((m) => m.type === 'request').length < 5; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(server.messages.filter((m) => m.type === 'request').map((m) => m.path).sort())
      .toEqual(['/ok', '/upload', '/upload', '/wait', '/wait']);

    pair.vanish();
    const vanishedAt = Date.now();
    const detected: Record<string, number> = {};
    const results: Record<string, any> = {};
    await Promise.all((['agent-failfast', 'undici-failfast', 'agent-pool'] as const).map(async (mode) => {
      results[mode] = await clients[mode].waitFor((m) => m.type === 'result', TIMEOUT_MS + 5000);
      detected[mode] = Date.now() - vanishedAt;
    }));

    // http.Agent mid-upload: the request fails with failFast's error (retransmission path).
    expect(results['agent-failfast']).toMatchObject({ ok: false, code: 'ETIMEDOUT', reason: 'retransmit' });
    expect(detected['agent-failfast']).toBeLessThanOrEqual(TIMEOUT_MS + 1000);
    // undici waiting for a response: failFast's keepalive path kills the socket;
    // undici rejects the request with the socket's error.
    const undiciError = results['undici-failfast'];
    expect(undiciError.ok).toBe(false);
    expect([undiciError.code, undiciError.cause?.code]).toContain('ETIMEDOUT');
    expect(detected['undici-failfast']).toBeLessThanOrEqual(TIMEOUT_MS + 1000);
    // a keep-alive socket idling in the pool is closed and dropped from the pool.
    expect(results['agent-pool']).toMatchObject({ ok: false, code: 'ETIMEDOUT', pooledAfter: 0 });
    expect(detected['agent-pool']).toBeLessThanOrEqual(TIMEOUT_MS + 1000);

    await new Promise((r) => setTimeout(r, Math.max(0, vanishedAt + PLAIN_BOUND_MS - Date.now())));
    for (const mode of ['agent-plain', 'undici-plain'] as const) {
      clients[mode].send({ cmd: 'check' });
      const check = await clients[mode].waitFor((m) => m.type === 'pending', 5000);
      expect({ mode, settled: check.settled }).toEqual({ mode, settled: false });
    }
    // eslint-disable-next-line no-console
    console.log(`http: failFast(${TIMEOUT_MS} ms) detection after the vanish: ${JSON.stringify(detected)}; ` +
      `undici error: ${undiciError.name} ${undiciError.code} (${undiciError.message}); plain clients still waiting after ${PLAIN_BOUND_MS} ms`);
  }, 60_000);
});
