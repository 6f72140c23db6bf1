/**
 * tcp-vitals/otel against a real OpenTelemetry SDK MeterProvider with the
 * SDK's InMemoryMetricExporter: every exported value is checked against
 * tcpInfo()/queues() of the same socket.
 */
import * as net from 'node:net';
import { DataPointType, MeterProvider, MetricData } from '@opentelemetry/sdk-metrics';
import { registerMetrics, track } from '../lib/integrations/otel';
import { connectionCount, publishDeath } from '../lib/runtime/connections';
import { queues } from '../lib/kernel/sockopt';
import { tcpInfo } from '../lib/kernel/tcpinfo';
import { peerGoneError } from '../lib/common/errors';
import { sleep } from './helpers/loopback';
import { otelMetrics } from './helpers/otel-metrics';
import { connect, countBatchReads, listen, stallUntilRetransmit } from './helpers/metrics';

function setup(options?: Parameters<typeof registerMetrics>[1]) {
  return otelMetrics('tcp-vitals-test', (meter) => registerMetrics(meter, { names: 'legacy', ...options }));
}

function point(m: MetricData | undefined, attrs: Record<string, unknown>): any {
  if (!m) throw new Error('metric not exported');
  const want = JSON.stringify(Object.entries(attrs).sort());
  const found = m.dataPoints.filter((p) => JSON.stringify(Object.entries(p.attributes).sort()) === want);
  if (found.length !== 1) throw new Error(`expected one point ${want} in ${m.descriptor.name}, got ${JSON.stringify(m.dataPoints.map((p) => p.attributes))}`);
  return found[0].value;
}

describe('tcp-vitals/otel', () => {
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  const providers: MeterProvider[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(providers.splice(0).map((p) => p.shutdown()));
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (let i = 0; i < 100 && connectionCount() > 0; i++) await sleep(10);
  });

  test('one collection exports a tracked socket with the values tcpInfo/queues give for it', async () => {
    const server = net.createServer((s) => { sockets.push(s); s.pause(); });
    servers.push(server);
    const port = await listen(server);
    const client = await connect(port);
    sockets.push(client);
    const { provider, collect, handle } = setup();
    providers.push(provider);
    track(client);
    await stallUntilRetransmit(client);
    const before = { info: tcpInfo(client), q: queues(client) };
    const m = await collect();
    const after = { info: tcpInfo(client), q: queues(client) };
    const peer = { 'network.transport': 'tcp', 'network.peer.address': '127.0.0.1', 'network.peer.port': port };
    expect(m.get('tcp.connection.count')?.descriptor.unit).toBe('{connection}');
    expect(point(m.get('tcp.connection.count'), { ...peer, 'network.connection.state': 'established' })).toBe(1);
    const unsent = point(m.get('tcp.connection.unsent'), peer);
    expect(before.q.unsent).toBeGreaterThan(0);
    expect(unsent).toBeGreaterThanOrEqual(Math.min(before.q.unsent, after.q.unsent));
    expect(unsent).toBeLessThanOrEqual(Math.max(before.q.unsent, after.q.unsent));
    const unacked = point(m.get('tcp.connection.unacknowledged'), peer);
    expect(unacked).toBeGreaterThanOrEqual(Math.min(before.q.unacknowledged, after.q.unacknowledged));
    expect(unacked).toBeLessThanOrEqual(Math.max(before.q.unacknowledged, after.q.unacknowledged));
    expect(m.get('tcp.connection.unsent')?.descriptor.unit).toBe('By');
    const rtt = m.get('tcp.connection.rtt');
    expect(rtt?.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(rtt?.descriptor.unit).toBe('s');
    const h = point(rtt, peer);
    expect(h.count).toBe(1);
    expect(h.sum).toBeGreaterThan(0);
    expect(h.sum).toBeGreaterThanOrEqual(Math.min(before.info.rtt, after.info.rtt) / 1e6);
    expect(h.sum).toBeLessThanOrEqual(Math.max(before.info.rtt, after.info.rtt) / 1e6);
    // Retransmitted segments: the counter is the socket's tcpi_total_retrans, and it is
    // kept after the socket closes.
    expect(before.info.totalRetrans).toBeGreaterThan(0);
    const retrans = point(m.get('tcp.connection.retransmitted_segments'), peer);
    expect(retrans).toBeGreaterThanOrEqual(before.info.totalRetrans);
    expect(retrans).toBeLessThanOrEqual(after.info.totalRetrans);
    // Each collection records each connection's rtt once.
    const last = tcpInfo(client).totalRetrans;
    const m2 = await collect();
    expect(point(m2.get('tcp.connection.rtt'), peer).count).toBe(2);
    client.destroy();
    await new Promise((r) => client.once('close', r));
    const m3 = await collect();
    expect(point(m3.get('tcp.connection.count'), { ...peer, 'network.connection.state': 'established' })).toBe(0);
    expect(point(m3.get('tcp.connection.unsent'), peer)).toBe(0);
    expect(point(m3.get('tcp.connection.retransmitted_segments'), peer)).toBeGreaterThanOrEqual(last);
    handle.stop();
  });

  test('peer attributes are capped: 200 peers give 50 addresses plus "other"', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = net.createServer((c) => { sockets.push(c); c.resume(); });
      servers.push(s);
      ports.push(await listen(s));
    }
    for (const p of ports) { const c = await connect(p); sockets.push(c); track(c); }
    const { provider, collect } = setup();
    providers.push(provider);
    const m = await collect();
    const points = m.get('tcp.connection.count')!.dataPoints;
    const peers = new Set(points.map((p) => `${p.attributes['network.peer.address']}:${p.attributes['network.peer.port'] ?? ''}`));
    expect(peers.size).toBe(51);
    expect(points.reduce((n, p) => n + (p.value as number), 0)).toBe(200);
    expect(point(m.get('tcp.connection.count'), { 'network.transport': 'tcp', 'network.peer.address': 'other', 'network.connection.state': 'established' })).toBe(150);
  }, 120_000);

  test('deaths and detection time are recorded from the tcp-vitals:death channel', async () => {
    const { provider, collect, handle } = setup();
    providers.push(provider);
    const socket = new net.Socket();
    publishDeath(socket, Object.assign(peerGoneError('retransmit', 1, 'test'), { silentMs: 4000 }));
    publishDeath(socket, peerGoneError('unsent', 1, 'test'));
    const m = await collect();
    expect(point(m.get('tcp.connection.deaths'), { 'error.type': 'retransmit' })).toBe(1);
    expect(point(m.get('tcp.connection.deaths'), { 'error.type': 'unsent' })).toBe(1);
    const d = point(m.get('tcp.connection.detection_time'), {});
    expect(d.count).toBe(1);
    expect(d.sum).toBe(4);
    handle.stop();
    publishDeath(socket, peerGoneError('unsent', 1, 'test'));
    const m2 = await collect();
    expect(point(m2.get('tcp.connection.deaths'), { 'error.type': 'unsent' })).toBe(1);
  });

  test('a collection reads every socket once, in one native batch read', async () => {
    const server = net.createServer((s) => { sockets.push(s); s.resume(); });
    servers.push(server);
    const port = await listen(server);
    for (let i = 0; i < 4; i++) { const c = await connect(port); sockets.push(c); track(c); }
    const { provider, collect } = setup();
    providers.push(provider);
    const calls: number[] = [];
    await countBatchReads(calls, async () => {
      const m = await collect();
      expect(calls).toEqual([4]);
      expect(point(m.get('tcp.connection.count'), { 'network.transport': 'tcp', 'network.peer.address': '127.0.0.1', 'network.peer.port': port, 'network.connection.state': 'established' })).toBe(4);
    });
  });

  test('a bad meter is refused with a Node-shaped error', () => {
    expect(() => registerMetrics({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
