/**
 * tcp-vitals/prometheus against a real prom-client Registry and real loopback
 * connections: the text exposition is parsed and every value is checked
 * against tcpInfo()/queues() of the same socket.
 */
import * as net from 'node:net';
import { Registry } from 'prom-client';
import { registerMetrics, track } from '../lib/integrations/prometheus';
import { addConnection, connectionCount, deleteConnection, publishDeath } from '../lib/runtime/connections';
import { queues } from '../lib/kernel/sockopt';
import { tcpInfo } from '../lib/kernel/tcpinfo';
import { peerGoneError } from '../lib/common/errors';
import { sleep } from './helpers/loopback';
import { connect, countBatchReads, listen, stallUntilRetransmit } from './helpers/metrics';
import { parseExposition, sample, samples } from './integration-prometheus-exposition';

describe('tcp-vitals/prometheus', () => {
  const servers: net.Server[] = [];
  const clients: net.Socket[] = [];
  const accepted: net.Socket[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    for (const c of accepted.splice(0)) c.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (let i = 0; i < 100 && connectionCount() > 0; i++) await sleep(10);
  });

  test('a scrape reports a tracked socket with the values tcpInfo/queues give for it', async () => {
    const server = net.createServer((s) => { accepted.push(s); s.pause(); });
    servers.push(server);
    const port = await listen(server);
    const client = await connect(port);
    clients.push(client);
    const registry = new Registry();
    const metrics = registerMetrics(registry, { names: 'legacy' });
    track(client);
    await stallUntilRetransmit(client);
    const before = { info: tcpInfo(client), q: queues(client) };
    const text = await registry.metrics();
    const after = { info: tcpInfo(client), q: queues(client) };
    const m = parseExposition(text);
    const peer = `127.0.0.1:${port}`;
    expect(m.types.get('tcp_connections')).toBe('gauge');
    expect(m.types.get('tcp_retransmitted_segments_total')).toBe('counter');
    expect(m.types.get('tcp_rtt_seconds')).toBe('histogram');
    expect(m.types.get('tcp_unacknowledged_bytes')).toBe('gauge');
    expect(m.types.get('tcp_deaths_total')).toBe('counter');
    expect(m.types.get('tcp_death_detection_seconds')).toBe('histogram');
    expect(sample(m, 'tcp_connections', { peer, state: 'ESTABLISHED' })).toBe(1);
    expect(before.q.unsent).toBeGreaterThan(0);
    const unsent = sample(m, 'tcp_unsent_bytes', { peer });
    expect(unsent).toBeGreaterThanOrEqual(Math.min(before.q.unsent, after.q.unsent));
    expect(unsent).toBeLessThanOrEqual(Math.max(before.q.unsent, after.q.unsent));
    const unacked = sample(m, 'tcp_unacknowledged_bytes', { peer });
    expect(unacked).toBeGreaterThanOrEqual(Math.min(before.q.unacknowledged, after.q.unacknowledged));
    expect(unacked).toBeLessThanOrEqual(Math.max(before.q.unacknowledged, after.q.unacknowledged));
    expect(sample(m, 'tcp_rtt_seconds_count', { peer })).toBe(1);
    const rtt = sample(m, 'tcp_rtt_seconds_sum', { peer });
    expect(rtt).toBeGreaterThanOrEqual(Math.min(before.info.rtt, after.info.rtt) / 1e6);
    expect(rtt).toBeLessThanOrEqual(Math.max(before.info.rtt, after.info.rtt) / 1e6);
    expect(rtt).toBeGreaterThan(0);
    // Buckets are cumulative: the one observation is in every bucket whose bound is >= rtt.
    expect(sample(m, 'tcp_rtt_seconds_bucket', { peer, le: '+Inf' })).toBe(1);
    for (const b of samples(m, 'tcp_rtt_seconds_bucket').filter((x) => x.labels.le !== '+Inf')) {
      expect([b.labels.le, b.value]).toEqual([b.labels.le, Number(b.labels.le) >= rtt ? 1 : 0]);
    }
    const rttvar = sample(m, 'tcp_rtt_variance_seconds_sum', { peer });
    expect(rttvar).toBeGreaterThanOrEqual(Math.min(before.info.rttvar, after.info.rttvar) / 1e6);
    expect(rttvar).toBeLessThanOrEqual(Math.max(before.info.rttvar, after.info.rttvar) / 1e6);
    // A later scrape observes the rtt once more (one observation per scrape and connection;
    // scrapes within one event-loop turn share one reading).
    await new Promise((r) => setImmediate(r));
    const m2 = parseExposition(await registry.metrics());
    expect(sample(m2, 'tcp_rtt_seconds_count', { peer })).toBe(2);
    expect(before.info.totalRetrans).toBeGreaterThan(0);
    const retrans = sample(m, 'tcp_retransmitted_segments_total', { peer });
    expect(retrans).toBeGreaterThanOrEqual(before.info.totalRetrans);
    expect(retrans).toBeLessThanOrEqual(after.info.totalRetrans);
    // The counter outlives the socket.
    const last = tcpInfo(client).totalRetrans;
    await new Promise((r) => setImmediate(r));
    await registry.metrics();
    client.destroy();
    await new Promise((r) => client.once('close', r));
    await new Promise((r) => setImmediate(r));
    const m3 = parseExposition(await registry.metrics());
    expect(samples(m3, 'tcp_connections')).toHaveLength(0);
    expect(sample(m3, 'tcp_retransmitted_segments_total', { peer })).toBeGreaterThanOrEqual(last);
    metrics.stop();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });

  test('connections registered by protect() (the registry contract) are covered; closed ones leave', async () => {
    const server = net.createServer((s) => { accepted.push(s); s.resume(); });
    servers.push(server);
    const port = await listen(server);
    const a = await connect(port);
    const b = await connect(port);
    clients.push(a, b);
    addConnection(a, { direction: 'outbound', source: 'protect', host: 'db.internal', port: 5432 });
    track(b);
    const registry = new Registry();
    registerMetrics(registry, { names: 'legacy' });
    let m = parseExposition(await registry.metrics());
    expect(sample(m, 'tcp_connections', { peer: 'db.internal:5432', state: 'ESTABLISHED' })).toBe(1);
    expect(sample(m, 'tcp_connections', { peer: `127.0.0.1:${port}`, state: 'ESTABLISHED' })).toBe(1);
    b.destroy();
    await new Promise((r) => b.once('close', r));
    deleteConnection(a);
    m = parseExposition(await registry.metrics());
    expect(samples(m, 'tcp_connections')).toHaveLength(0);
  });

  test('peer labels are capped: 200 peers give 50 labels plus "other"', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = net.createServer((c) => { accepted.push(c); c.resume(); });
      servers.push(s);
      ports.push(await listen(s));
    }
    for (const p of ports) clients.push(await connect(p));
    for (const c of clients) track(c);
    const registry = new Registry();
    registerMetrics(registry, { names: 'legacy' });
    const m = parseExposition(await registry.metrics());
    const conn = samples(m, 'tcp_connections');
    const peers = new Set(conn.map((s) => s.labels.peer));
    expect(peers.size).toBe(51);
    expect(peers.has('other')).toBe(true);
    expect(conn.reduce((n, s) => n + s.value, 0)).toBe(200);
    expect(sample(m, 'tcp_connections', { peer: 'other', state: 'ESTABLISHED' })).toBe(150);
    for (const name of ['tcp_unsent_bytes', 'tcp_unacknowledged_bytes', 'tcp_rtt_seconds_count']) {
      expect(new Set(samples(m, name).map((s) => s.labels.peer)).size).toBe(51);
    }
    expect(samples(m, 'tcp_rtt_seconds_count').reduce((n, s) => n + s.value, 0)).toBe(200);
    // maxPeers is an option.
    const small = new Registry();
    registerMetrics(small, { names: 'legacy', maxPeers: 3 });
    const m3 = parseExposition(await small.metrics());
    expect(new Set(samples(m3, 'tcp_connections').map((s) => s.labels.peer)).size).toBe(4);
  }, 120_000);

  test('deaths by reason and detection time come from the tcp-vitals:death channel', async () => {
    const registry = new Registry();
    const metrics = registerMetrics(registry, { names: 'legacy' });
    const socket = new net.Socket();
    const e1 = Object.assign(peerGoneError('retransmit', 10, 'test'), { silentMs: 2500 });
    publishDeath(socket, e1);
    publishDeath(socket, peerGoneError('keepalive', 0, 'test'));
    publishDeath(socket, peerGoneError('keepalive', 0, 'test'));
    const m = parseExposition(await registry.metrics());
    expect(sample(m, 'tcp_deaths_total', { reason: 'retransmit' })).toBe(1);
    expect(sample(m, 'tcp_deaths_total', { reason: 'keepalive' })).toBe(2);
    expect(sample(m, 'tcp_death_detection_seconds_count', {})).toBe(1);
    expect(sample(m, 'tcp_death_detection_seconds_sum', {})).toBe(2.5);
    expect(sample(m, 'tcp_death_detection_seconds_bucket', { le: '3' })).toBe(1);
    expect(sample(m, 'tcp_death_detection_seconds_bucket', { le: '2' })).toBe(0);
    metrics.stop();
    publishDeath(socket, peerGoneError('keepalive', 0, 'test'));
  });

  test('peer labels: inbound connections by address only (ephemeral ports), IPv6 in brackets', async () => {
    const inbound: net.Socket[] = [];
    const server = net.createServer((s) => { accepted.push(s); inbound.push(s); s.resume(); });
    servers.push(server);
    const port = await listen(server);
    clients.push(await connect(port), await connect(port));
    for (let i = 0; i < 100 && inbound.length < 2; i++) await sleep(10);
    for (const s of inbound) track(s);
    const six = net.createServer((s) => { accepted.push(s); s.resume(); });
    servers.push(six);
    let sixPort = 0;
    try { sixPort = await listen(six, '::1'); } catch { /* no IPv6 loopback here */ }
    if (sixPort) { const c = await connect(sixPort, '::1'); clients.push(c); track(c); }
    const registry = new Registry();
    registerMetrics(registry, { names: 'legacy' });
    const m = parseExposition(await registry.metrics());
    expect(sample(m, 'tcp_connections', { peer: '127.0.0.1', state: 'ESTABLISHED' })).toBe(2);
    if (sixPort) expect(sample(m, 'tcp_connections', { peer: `[::1]:${sixPort}`, state: 'ESTABLISHED' })).toBe(1);
  });

  test('a scrape reads every socket once, in one native batch read', async () => {
    const server = net.createServer((s) => { accepted.push(s); s.resume(); });
    servers.push(server);
    const port = await listen(server);
    for (let i = 0; i < 5; i++) { const c = await connect(port); clients.push(c); track(c); }
    const registry = new Registry();
    registerMetrics(registry, { names: 'legacy' });
    const calls: number[] = [];
    await countBatchReads(calls, async () => {
      await new Promise((r) => setImmediate(r));
      await registry.metrics();
      expect(calls).toEqual([5]);
      await new Promise((r) => setImmediate(r));
      await registry.metrics();
      expect(calls).toEqual([5, 5]);
    });
  });

  test('extra labels from track() and bad arguments', async () => {
    const server = net.createServer((s) => { accepted.push(s); s.resume(); });
    servers.push(server);
    const port = await listen(server);
    const c = await connect(port);
    clients.push(c);
    track(c, { pool: 'primary' });
    const registry = new Registry();
    registerMetrics(registry, { names: 'legacy', labelNames: ['pool'], prefix: 'app_tcp_' });
    const m = parseExposition(await registry.metrics());
    expect(sample(m, 'app_tcp_connections', { peer: `127.0.0.1:${port}`, pool: 'primary', state: 'ESTABLISHED' })).toBe(1);
    expect(() => registerMetrics({} as Registry)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => registerMetrics(new Registry(), { maxPeers: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => track({} as net.Socket)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => track(c, { pool: 1 as unknown as string })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
