/**
 * TCP facts on HTTP spans with the real OTel tracing SDK (in-memory span
 * exporter), @opentelemetry/instrumentation-http and undici/fetch, a real
 * http server and real clients (test/fixtures/otel-spans.js, a plain Node
 * process: instrumentations patch through Node's module loader, which jest
 * replaces). Every server and client span is checked.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { VERDICTS } from '../lib/model/diagnose';

interface SpanOut { name: string; kind: number; status: number; path: string; attributes: Record<string, unknown> }
const SERVER = 1;
const CLIENT = 2;
const INTERNAL = 0;

describe('TCP facts on HTTP spans (real SDK, real server, real http and fetch clients)', () => {
  let spans: SpanOut[] = [];
  let kernel: { upload: { before: number; after: number; reused: boolean } };
  beforeAll(() => {
    const r = spawnSync(process.execPath, [join(__dirname, 'fixtures', 'otel-spans.js')], { encoding: 'utf8', timeout: 60_000 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`no spans (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
    ({ spans, kernel } = JSON.parse(line));
  }, 70_000);
  const one = (kind: number, path: string): SpanOut => {
    const found = spans.filter((s) => s.kind === kind && s.path === path);
    if (found.length !== 1) throw new Error(`expected one span kind ${kind} ${path}: ${JSON.stringify(spans.map((s) => [s.kind, s.path]))}`);
    return found[0];
  };

  test('every server and client span carries the connection facts', () => {
    const http = spans.filter((s) => s.kind === SERVER || s.kind === CLIENT);
    expect(http.length).toBeGreaterThanOrEqual(12);
    for (const s of http) {
      if (s.path === '/reset') continue; // the connection is gone before the end (checked below)
      const a = s.attributes;
      expect([s.kind, s.path, a['network.peer.address']]).toEqual([s.kind, s.path, '127.0.0.1']);
      expect(typeof a['network.peer.port']).toBe('number');
      expect(typeof a['tcp.connection.new']).toBe('boolean');
      expect(a['tcp.rtt']).toBeGreaterThan(0);
      expect(a['tcp.rtt']).toBeLessThan(1); // loopback, seconds
      expect(a['tcp.rtt_variance']).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(a['tcp.retransmits'])).toBe(true);
      expect(a['tcp.retransmits']).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(a['tcp.unacknowledged_bytes'])).toBe(true);
    }
  });

  test('new and reused connections, and a reused one\'s idle time, on both sides', () => {
    for (const kind of [SERVER, CLIENT]) {
      expect(one(kind, '/first').attributes['tcp.connection.new']).toBe(true);
      expect(one(kind, '/first').attributes['tcp.connection.idle_before']).toBeUndefined();
      const reused = one(kind, '/reused').attributes;
      expect(reused['tcp.connection.new']).toBe(false);
      expect(reused['tcp.connection.idle_before']).toBeGreaterThanOrEqual(0.14); // the client slept 150 ms in between
      expect(reused['tcp.connection.idle_before']).toBeLessThan(30);
    }
    // The two sides agree on the connection: the client's peer port is the server's, and vice versa it is one socket.
    expect(one(CLIENT, '/reused').attributes['network.peer.port']).toBe(one(CLIENT, '/first').attributes['network.peer.port']);
    expect(one(SERVER, '/reused').attributes['network.peer.port']).toBe(one(SERVER, '/first').attributes['network.peer.port']);
  });

  test('a fast request has no verdict; a slow one has diagnose()\'s, read while it waited', () => {
    expect(one(CLIENT, '/first').attributes['tcp.verdict']).toBeUndefined();
    expect(one(SERVER, '/first').attributes['tcp.verdict']).toBeUndefined();
    const client = one(CLIENT, '/slow').attributes;
    expect(client['tcp.verdict']).toBe('peer-app-silent');
    expect(String(client['tcp.verdict.evidence'])).toMatch(/peer application silent for 1\.\d+ s; network fine/);
    expect(VERDICTS).toContain(one(SERVER, '/slow').attributes['tcp.verdict']);
  });

  test('retransmits during the request: the kernel\'s tcpi_total_retrans delta over that request only', () => {
    // An 8 MB upload the server does not read for 1.5 s on the reused keep-alive connection: the client's
    // kernel retransmits (4 times on 6.18 loopback); the fixture read tcp_info right before and after it.
    const up = one(CLIENT, '/stalled-upload').attributes;
    expect(kernel.upload.reused).toBe(true);
    expect(up['tcp.connection.new']).toBe(false);
    expect(up['tcp.retransmits']).toBe(kernel.upload.after - kernel.upload.before);
    expect(kernel.upload.after).toBeGreaterThan(0);
    // The same connection's earlier requests: none of those retransmits.
    expect(one(CLIENT, '/reused').attributes['tcp.retransmits']).toBe(0);
  });

  test('a request that failed (connection reset) carries a verdict', () => {
    const client = one(CLIENT, '/reset').attributes;
    expect(VERDICTS).toContain(client['tcp.verdict']);
    expect(typeof client['tcp.verdict.evidence']).toBe('string');
    expect(one(CLIENT, '/reset').status).toBe(2); // SpanStatusCode.ERROR
  });

  test('fetch (undici diagnostics channels): the caller\'s span gets the facts, new connection then reuse agree with the server', () => {
    for (const name of ['fetch /fetched', 'fetch /fetched-again']) {
      const s = spans.find((x) => x.kind === INTERNAL && x.name === name)!;
      expect(s).toBeDefined();
      expect(s.attributes['tcp.rtt']).toBeGreaterThan(0);
      expect(s.attributes['network.peer.address']).toBe('127.0.0.1');
      const server = one(SERVER, name.slice('fetch '.length)).attributes;
      expect(s.attributes['tcp.connection.new']).toBe(server['tcp.connection.new']);
    }
  });
});
