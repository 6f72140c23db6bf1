/**
 * HTTP clients against a node http server whose host vanishes mid-request:
 * http.Agent (FailFastAgent) and undici (failFastConnector) fail within the
 * timeout; the same clients without tcp-vitals are still waiting at the bound.
 * All five clients run at once against one server.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { Agent as UndiciAgent, buildConnector, request as undiciRequest } from 'undici';
import { failFastAgent, FailFastAgent, failFastConnector } from '../lib/integrations/agent';
import { failFastOptions } from '../lib/policy/failfast';
import { getOptions } from '../lib/kernel/options';
import { ADDR_B, Child, describeNetns, fixture, NetPair } from './helpers/netns';

const TIMEOUT_MS = 3000;
const PLAIN_BOUND_MS = 15_000;
const PORT = '8080';

describe('failFast for HTTP clients on loopback', () => {
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => res.end('ok'));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  /** One GET through `agent`; resolves with its socket once the socket is back in the pool. */
  const getOnce = (agent: http.Agent) => new Promise<net.Socket>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => setImmediate(() => resolve(socket as net.Socket)));
    });
    let socket: net.Socket | undefined;
    req.on('socket', (s) => { socket = s; });
    req.on('error', reject);
  });
  const expected = failFastOptions(10_000);
  const kernelView = (s: net.Socket) => {
    const o = getOptions(s);
    return { keepAlive: o.keepAlive, keepAliveIdle: o.keepAliveIdle, keepAliveInterval: o.keepAliveInterval,
      keepAliveCount: o.keepAliveCount, userTimeout: o.userTimeout };
  };

  test('FailFastAgent: every socket gets failFast, and keeps its options while pooled', async () => {
    // keepAliveMsecs 1000: Node's agent calls setKeepAlive(true, 1000) when a socket goes back to the pool
    const agent = new FailFastAgent({ keepAlive: true, keepAliveMsecs: 1000, failFast: { timeout: 10_000 } });
    const socket = await getOnce(agent);
    expect(Object.values(agent.freeSockets).flat()).toContain(socket);
    expect(kernelView(socket)).toEqual(expected);
    agent.destroy();
  });

  test('failFastAgent patches an existing agent once and returns it', async () => {
    const agent = new http.Agent({ keepAlive: true });
    expect(failFastAgent(agent, { timeout: 10_000 })).toBe(agent);
    expect(failFastAgent(agent, { timeout: 20_000 })).toBe(agent); // first options stay
    const socket = await getOnce(agent);
    expect(kernelView(socket)).toEqual(expected);
    agent.destroy();
  });

  test('failFastConnector: undici sockets get failFast', async () => {
    const sockets: net.Socket[] = [];
    const base = buildConnector({});
    const spy: typeof base = (opts, cb) => base(opts, (err, s) => { if (s) sockets.push(s as net.Socket); cb(err as null, s as never); });
    const dispatcher = new UndiciAgent({ connect: failFastConnector(spy as never, { timeout: 10_000 }) as never });
    const res = await undiciRequest(`http://127.0.0.1:${port}/`, { dispatcher });
    expect(await res.body.text()).toBe('ok');
    expect(sockets).toHaveLength(1);
    expect(kernelView(sockets[0])).toEqual(expected);
    await dispatcher.close();
  });

  test('bad arguments are Node-shaped errors', () => {
    expect(() => failFastAgent({} as never, { timeout: 10_000 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => failFastAgent(new http.Agent(), null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => failFastAgent(new http.Agent(), { timeout: 1500 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new FailFastAgent({ failFast: { timeout: '10s' as never } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => failFastConnector('connect' as never, { timeout: 10_000 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => failFastConnector(buildConnector({}) as never, { timeout: 0 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

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
    console.log(`http: failFast(${TIMEOUT_MS} ms) detection after the vanish: ${JSON.stringify(detected)}; ` +
      `undici error: ${undiciError.name} ${undiciError.code} (${undiciError.message}); plain clients still waiting after ${PLAIN_BOUND_MS} ms`);
  }, 60_000);
});
