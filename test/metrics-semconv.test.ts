/**
 * The default names of tcp-vitals/otel and tcp-vitals/prometheus (OTel's
 * system.network.tcp.* proposal) against the real OpenTelemetry SDK
 * (in-memory exporter) and prom-client, over real loopback connections:
 * handshake and connection durations, connect failures by reason, and
 * retransmits by type checked against the socket's own tcp_info.
 */
import * as net from 'node:net';
import { Registry } from 'prom-client';
import { MeterProvider, MetricData } from '@opentelemetry/sdk-metrics';
import * as otel from '../lib/integrations/otel';
import * as prom from '../lib/integrations/prometheus';
import { connectionCount } from '../lib/runtime/connections';
import { tcpInfo } from '../lib/kernel/tcpinfo';
import { sleep } from './helpers/loopback';
import { otelMetrics } from './helpers/otel-metrics';
import { connect, listen, stallUntilRetransmit } from './helpers/metrics';
import { parseExposition, sample, samples } from './integration-prometheus-exposition';
import { ADDR_B, describeNetns, fixture, NetPair } from './helpers/netns';

function setupOtel(options?: otel.OtelOptions) {
  return otelMetrics('semconv-test', (meter) => otel.registerMetrics(meter, options));
}

function points(m: MetricData | undefined, attrs: Record<string, unknown>): any[] {
  if (!m) throw new Error('metric not exported');
  return m.dataPoints.filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v)).map((p) => p.value);
}

/** A loopback port nobody listens on (bound then closed: the kernel answers a SYN with RST). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function refusedConnect(port: number): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('error', (e) => resolve(e));
  });
}

describe('semantic-convention names (default)', () => {
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  const stops: Array<() => unknown> = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const f of stops.splice(0)) await f();
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (let i = 0; i < 100 && connectionCount() > 0; i++) await sleep(10);
  });

  test('otel: the proposal names and units; handshake, connection duration, refused failures; legacy names only on request', async () => {
    const { provider, handle, collect } = setupOtel();
    stops.push(() => handle.stop(), () => provider.shutdown());
    const server = net.createServer((s) => { sockets.push(s); s.resume(); });
    servers.push(server);
    const port = await listen(server);
    const client = await connect(port);
    otel.track(client);
    const refusedPort = await closedPort();
    const err = await refusedConnect(refusedPort);
    expect(err.code).toBe('ECONNREFUSED');
    const m = await collect();
    const units: Record<string, string> = {
      'system.network.tcp.connection.count': '{connection}', 'system.network.tcp.rtt.duration': 's', 'system.network.tcp.rtt.variance': 's',
      'system.network.tcp.handshake.duration': 's', 'system.network.tcp.connection.failures': '{connection}',
      'system.network.tcp.unacknowledged': 'By', 'system.network.tcp.unsent': 'By',
    };
    for (const [name, unit] of Object.entries(units)) expect([name, m.get(name)?.descriptor.unit]).toEqual([name, unit]);
    for (const name of handle.names) expect(name.startsWith('system.network.tcp.') || name.startsWith('tcp_vitals.')).toBe(true);
    expect([...m.keys()].some((n) => n.startsWith('tcp.connection.'))).toBe(false);
    const peer = { 'network.transport': 'tcp', 'network.peer.address': '127.0.0.1', 'network.peer.port': port };
    expect(points(m.get('system.network.tcp.connection.count'), { ...peer, 'network.connection.state': 'established' })).toEqual([1]);
    // One handshake to `port` (ours), timed from connect() to established: positive, and a loopback one is far below 5 s.
    const hs = points(m.get('system.network.tcp.handshake.duration'), { ...peer, 'network.tcp.handshake.role': 'client' });
    expect(hs).toHaveLength(1);
    expect(hs[0].count).toBe(1);
    expect(hs[0].sum).toBeGreaterThan(0);
    expect(hs[0].sum).toBeLessThan(5);
    // The refused connect: reason 'refused', its peer, role client; never a handshake.
    expect(points(m.get('system.network.tcp.connection.failures'),
      { 'network.peer.port': refusedPort, reason: 'refused', 'network.tcp.handshake.role': 'client' })).toEqual([1]);
    expect(points(m.get('system.network.tcp.handshake.duration'), { 'network.peer.port': refusedPort })).toEqual([]);

    // Connection duration: recorded at close, for the client (role client) and the accepted side (role server).
    await sleep(50);
    client.destroy();
    await new Promise((r) => client.once('close', r));
    for (let i = 0; i < 100 && !sockets.every((s) => s.destroyed); i++) await sleep(10);
    const m2 = await collect();
    const cd = points(m2.get('system.network.tcp.connection.duration'), { ...peer, 'network.tcp.handshake.role': 'client' });
    expect(cd).toHaveLength(1);
    expect(cd[0].count).toBe(1);
    expect(cd[0].sum).toBeGreaterThanOrEqual(0.04);
    const server1 = points(m2.get('system.network.tcp.connection.duration'), { 'network.peer.address': '127.0.0.1', 'network.tcp.handshake.role': 'server' });
    expect(server1).toHaveLength(1);
    expect(server1[0].count).toBe(1);
  });

  test('otel: retransmits by type add up to tcpi_total_retrans, "timeout" never above tcpi_total_rto', async () => {
    const { provider, handle, collect } = setupOtel();
    stops.push(() => handle.stop(), () => provider.shutdown());
    const server = net.createServer((s) => { sockets.push(s); s.pause(); });
    servers.push(server);
    const port = await listen(server);
    const client = await connect(port);
    sockets.push(client);
    otel.track(client);
    await collect(); // the first reading: counting starts here
    await stallUntilRetransmit(client);
    const before = tcpInfo(client);
    const m = await collect();
    const after = tcpInfo(client);
    expect(before.totalRetrans).toBeGreaterThan(0);
    const peer = { 'network.peer.address': '127.0.0.1', 'network.peer.port': port };
    const byType = new Map<string, number>();
    for (const p of m.get('system.network.tcp.retransmits')!.dataPoints) {
      if (p.attributes['network.peer.port'] === port) byType.set(String(p.attributes['network.tcp.retransmit.type']), p.value as number);
    }
    const total = [...byType.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(before.totalRetrans);
    expect(total).toBeLessThanOrEqual(after.totalRetrans);
    if (after.totalRto !== undefined) {
      expect(byType.has('unknown')).toBe(false);
      expect(byType.get('timeout') ?? 0).toBeLessThanOrEqual(after.totalRto);
      expect(byType.get('timeout') ?? 0).toBeGreaterThanOrEqual(Math.min(before.totalRto ?? 0, before.totalRetrans));
    } else {
      expect([...byType.keys()]).toEqual(['unknown']);
    }
    expect(points(m.get('system.network.tcp.spurious_retransmits'), peer).reduce((a: number, b: number) => a + b, 0))
      .toBeLessThanOrEqual(after.dsackDups ?? 0);
  });

  test('prometheus: the names translated (dots to underscores, unit suffix, _total) and the same lifecycle facts', async () => {
    const registry = new Registry();
    const metrics = prom.registerMetrics(registry);
    stops.push(() => metrics.stop());
    const server = net.createServer((s) => { sockets.push(s); s.resume(); });
    servers.push(server);
    const port = await listen(server);
    const client = await connect(port);
    sockets.push(client);
    prom.track(client);
    const refusedPort = await closedPort();
    await refusedConnect(refusedPort);
    const e = parseExposition(await registry.metrics());
    expect(metrics.names).toEqual(expect.arrayContaining([
      'system_network_tcp_connection_count', 'system_network_tcp_retransmits_total', 'system_network_tcp_rtt_duration_seconds',
      'system_network_tcp_rtt_variance_seconds', 'system_network_tcp_handshake_duration_seconds', 'system_network_tcp_connection_duration_seconds',
      'system_network_tcp_connection_failures_total', 'system_network_tcp_unacknowledged_bytes', 'system_network_tcp_unsent_bytes',
      'tcp_vitals_connection_deaths_total', 'tcp_vitals_death_detection_duration_seconds']));
    const peer = { network_transport: 'tcp', network_peer_address: '127.0.0.1', network_peer_port: String(port) };
    expect(sample(e, 'system_network_tcp_connection_count', { ...peer, network_connection_state: 'established' })).toBe(1);
    expect(sample(e, 'system_network_tcp_rtt_duration_seconds_count', peer)).toBe(1);
    expect(sample(e, 'system_network_tcp_handshake_duration_seconds_count', { ...peer, network_tcp_handshake_role: 'client' })).toBe(1);
    expect(sample(e, 'system_network_tcp_connection_failures_total', {
      network_transport: 'tcp', network_peer_address: '127.0.0.1', network_peer_port: String(refusedPort), network_tcp_handshake_role: 'client', reason: 'refused',
    })).toBe(1);
    expect(samples(e, 'tcp_connections')).toEqual([]);
    // Legacy names on request, on another registry (the two sets do not collide).
    const old = new Registry();
    const legacy = prom.registerMetrics(old, { names: 'legacy' });
    stops.push(() => legacy.stop());
    const l = parseExposition(await old.metrics());
    expect(sample(l, 'tcp_connections', { peer: `127.0.0.1:${port}`, state: 'ESTABLISHED' })).toBe(1);
    expect(legacy.names).not.toContain('system_network_tcp_handshake_duration_seconds');
  });

  test('otel: an established connection reset by the peer counts once on the side that received the RST', async () => {
    const { provider, handle, collect } = setupOtel();
    stops.push(() => handle.stop(), () => provider.shutdown());
    const accepted: net.Socket[] = [];
    const errors: string[] = [];
    const server = net.createServer((s) => { accepted.push(s); sockets.push(s); s.on('error', (e: NodeJS.ErrnoException) => errors.push(`server ${e.code}`)); });
    servers.push(server);
    const port = await listen(server);
    // A: the server resets the client.
    const a = await connect(port);
    a.on('error', (e: NodeJS.ErrnoException) => errors.push(`client ${e.code}`));
    for (let i = 0; i < 100 && accepted.length < 1; i++) await sleep(10);
    accepted[0].resetAndDestroy();
    await new Promise((r) => a.once('close', r));
    // B: a client resets the server's socket.
    const b = await connect(port);
    for (let i = 0; i < 100 && accepted.length < 2; i++) await sleep(10);
    b.resetAndDestroy();
    for (let i = 0; i < 200 && !accepted[1].destroyed; i++) await sleep(10);
    expect(errors.sort()).toEqual(['client ECONNRESET', 'server ECONNRESET']);
    const m = await collect();
    expect(m.get('system.network.tcp.resets')?.descriptor.unit).toBe('{connection}');
    expect(points(m.get('system.network.tcp.resets'), { 'network.peer.port': port, 'network.tcp.handshake.role': 'client' })).toEqual([1]);
    expect(points(m.get('system.network.tcp.resets'), { 'network.peer.address': '127.0.0.1', 'network.tcp.handshake.role': 'server' })).toEqual([1]);
  });

  test('a bad names option is refused with ERR_INVALID_ARG_VALUE', () => {
    expect(() => prom.registerMetrics(new Registry(), { names: 'old' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    const { provider } = { provider: new MeterProvider() };
    expect(() => otel.registerMetrics(provider.getMeter('x'), { names: 1 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describeNetns('connect failures: our own connect timeout counts as timed_out (vanished host, own namespaces)', () => {
  const pairs: NetPair[] = [];
  afterAll(() => { for (const p of pairs) p.destroy(); });

  test('a SYN nobody answers, given up by protect() at its timeout: reason timed_out, no handshake', async () => {
    const pair = NetPair.create();
    pairs.push(pair);
    pair.vanish();
    const child = pair.spawnNode(pair.a, fixture('metrics-connect-failures.js'), [ADDR_B, '7311']);
    const err = await child.waitFor((m) => m.type === 'error', 20_000);
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.afterMs).toBeLessThan(10_000); // protect()'s 2 s, not the kernel's ~2 min of SYN retries
    const e = parseExposition((await child.waitFor((m) => m.type === 'scrape', 10_000)).text);
    const peer = { network_transport: 'tcp', network_peer_address: ADDR_B, network_peer_port: '7311', network_tcp_handshake_role: 'client' };
    expect(sample(e, 'system_network_tcp_connection_failures_total', { ...peer, reason: 'timed_out' })).toBe(1);
    expect(samples(e, 'system_network_tcp_handshake_duration_seconds_count')).toEqual([]);
  }, 40_000);
});
