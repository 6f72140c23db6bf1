/**
 * tcp-vitals/prometheus under hostile configuration (issue 19, items 6 and 7):
 * registerMetrics is all or nothing (a name already taken leaves nothing
 * registered, and a retry works once the name is free), a label name the
 * module sets itself cannot be given as an extra label (it would override the
 * capped peer label), and buckets must be finite and increasing. Name-agnostic:
 * the module's own metric and label names are read from what it registers and
 * exposes, not listed here.
 */
import * as net from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { registerMetrics, track } from '../lib/integrations/prometheus';
import { connectionCount, publishDeath } from '../lib/runtime/connections';
import { peerGoneError } from '../lib/common/errors';
import { sleep } from './helpers/loopback';
import { connect, listen } from './helpers/metrics';
import { parseExposition } from './integration-prometheus-exposition';

const names = (r: Registry) => r.getMetricsAsArray().map((m) => m.name).sort();

describe('registerMetrics: all or nothing', () => {
  let own: readonly string[];
  beforeAll(() => {
    const scratch = registerMetrics(new Registry());
    own = scratch.names;
    scratch.stop();
    expect(own.length).toBeGreaterThan(5);
  });

  test.each([0, 1, 2, 3, 4, 5, 6, 7])('the %ith of its names already taken: throws, and registers none of them', (i) => {
    const name = own[i];
    const registry = new Registry();
    new Gauge({ name, help: 'the application\'s own', registers: [registry] });
    expect(() => registerMetrics(registry)).toThrow(/already/);
    expect(names(registry)).toEqual([name]);
    // the same prefix works once the name is free
    registry.removeSingleMetric(name);
    const m = registerMetrics(registry);
    expect(names(registry)).toEqual([...own].sort());
    m.stop();
    expect(names(registry)).toEqual([]);
  });

  test('a failed call leaves no death subscriber behind', () => {
    // diagnostics_channel is process-wide (other test files in this worker may hold subscribers): count ours,
    // through a module copy whose diagnostics_channel counts subscriptions to the death channel.
    const actual = jest.requireActual<typeof import('node:diagnostics_channel')>('node:diagnostics_channel');
    let live = 0;
    let seen = 0;
    let fresh: typeof import('../lib/integrations/prometheus') | undefined;
    let deathName = '';
    jest.isolateModules(() => {
      jest.doMock('node:diagnostics_channel', () => ({
        ...actual,
        subscribe: (name: string, fn: (m: unknown, n: string | symbol) => void) => { if (name === deathName) { live++; seen++; } actual.subscribe(name, fn); },
        unsubscribe: (name: string, fn: (m: unknown, n: string | symbol) => void) => { if (name === deathName) live--; return actual.unsubscribe(name, fn); },
      }));
      deathName = (require('../lib/runtime/connections') as typeof import('../lib/runtime/connections')).DEATH_CHANNEL;
      fresh = require('../lib/integrations/prometheus');
    });
    jest.dontMock('node:diagnostics_channel');
    for (const name of own) {
      const registry = new Registry();
      new Gauge({ name, help: 'taken', registers: [registry] });
      expect(() => fresh!.registerMetrics(registry)).toThrow();
      expect(live).toBe(0);
    }
    const m = fresh!.registerMetrics(new Registry()); // the count does see a subscription
    expect([seen, live]).toEqual([1, 1]);
    m.stop();
    expect(live).toBe(0);
  });
});

describe('labels and buckets', () => {
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (let i = 0; i < 100 && connectionCount() > 0; i++) await sleep(10);
  });

  test('every label the module sets itself is refused as an extra label (ERR_INVALID_ARG_VALUE)', async () => {
    const server = net.createServer((s) => { sockets.push(s); s.resume(); });
    servers.push(server);
    const port = await listen(server);
    const c = await connect(port);
    sockets.push(c);
    track(c, { pool: 'primary' });
    const registry = new Registry();
    const m = registerMetrics(registry, { labelNames: ['pool'] });
    publishDeath(c, Object.assign(peerGoneError('keepalive', 0, 'test'), { silentMs: 1000 }));
    const own = new Set<string>();
    for (const s of parseExposition(await registry.metrics()).samples) for (const l of Object.keys(s.labels)) if (l !== 'pool') own.add(l);
    m.stop();
    expect(own.size).toBeGreaterThanOrEqual(3); // peer, state, reason, le at least with today's names
    for (const label of [...own, 'peer', 'state']) {
      const r = new Registry();
      expect(() => registerMetrics(r, { labelNames: [label] })).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
      expect(names(r)).toEqual([]);
    }
    for (const bad of [['pool', 'pool'], ['__name__']]) {
      expect(() => registerMetrics(new Registry(), { labelNames: bad })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
  });

  test.each([
    ['legacy', 'peer'],
    ['otel', 'network_peer_address'],
  ] as const)('a track() label cannot override the capped peer label (%s names)', async (naming, peerLabel) => {
    const server = net.createServer((s) => { sockets.push(s); s.resume(); });
    servers.push(server);
    const port = await listen(server);
    const c = await connect(port);
    sockets.push(c);
    track(c, { [peerLabel]: 'spoofed', pool: 'p' });
    const registry = new Registry();
    expect(() => registerMetrics(new Registry(), { names: naming, labelNames: [peerLabel] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    const m = registerMetrics(registry, { names: naming, labelNames: ['pool'] });
    const peers = parseExposition(await registry.metrics()).samples.map((s) => s.labels[peerLabel]).filter((p) => p !== undefined);
    m.stop();
    expect(peers.length).toBeGreaterThan(0);
    expect(peers).not.toContain('spoofed');
  });

  test.each([
    ['rttBuckets', [Infinity, NaN]],
    ['rttBuckets', [0.001, NaN]],
    ['rttBuckets', [0.5, 0.1]],
    ['rttBuckets', [0.1, 0.1]],
    ['rttBuckets', [0.1, -Infinity]],
    ['detectionBuckets', [1, Infinity]],
    ['detectionBuckets', [5, 2]],
    ['detectionBuckets', [1, '2']],
  ])('%s %p: ERR_INVALID_ARG_VALUE, nothing registered', (key, buckets) => {
    const r = new Registry();
    expect(() => registerMetrics(r, { [key]: buckets } as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
    expect(names(r)).toEqual([]);
  });

  test('buckets that are not an array: ERR_INVALID_ARG_TYPE; good ones are used', () => {
    expect(() => registerMetrics(new Registry(), { rttBuckets: 5 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    const r = new Registry();
    const m = registerMetrics(r, { rttBuckets: [0.001, 0.01], detectionBuckets: [1, 10] });
    expect(names(r).length).toBe(m.names.length);
    m.stop();
  });
});
