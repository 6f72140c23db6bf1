/**
 * examples/prom-client.js against a real loopback connection: the registry's
 * output carries every snapshot() metric with the connection's real values.
 */
import * as net from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { tcpInfo } from '../lib/kernel/tcpinfo';

const { trackConnections } = require(join(__dirname, '..', 'examples', 'prom-client.js'));

function valueOf(text: string, name: string, label: string): number {
  const m = new RegExp(`^${name}\\{connection="${label}"\\} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${name}{connection="${label}"} in:\n${text}`);
  return Number(m[1]);
}

describe('examples/prom-client.js', () => {
  let server: net.Server;
  let client: net.Socket;
  let received = 0;
  beforeAll(async () => {
    server = net.createServer((s) => s.on('data', (d) => { received += d.length; }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
  });
  afterAll(async () => {
    client.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('a scrape exposes every metric for the tracked connection, with its real values', async () => {
    const registry = new Registry();
    const tracked: Map<string, net.Socket> = trackConnections(registry);
    tracked.set('db', client);
    const written = 300_000;
    await new Promise<void>((r) => client.write(Buffer.alloc(written, 'x'), () => r()));
    for (let i = 0; i < 100 && received < written; i++) await new Promise((r) => setTimeout(r, 20));
    expect(received).toBe(written);
    await new Promise((r) => setTimeout(r, 50)); // let the last ACK land

    const text = await registry.metrics();
    const info = tcpInfo(client);
    expect(text).toContain('# TYPE tcp_rtt_seconds gauge');
    expect(text).toContain('# TYPE tcp_bytes_acked_total counter');
    expect(text).toContain('# HELP tcp_unacknowledged_bytes Transmitted and not yet acknowledged, bytes');
    for (const name of ['tcp_state', 'tcp_rtt_seconds', 'tcp_cwnd_segments', 'tcp_retransmits_total', 'tcp_send_queue_bytes',
      'tcp_unsent_bytes', 'tcp_unacknowledged_bytes', 'tcp_receive_queue_bytes', 'tcp_last_ack_recv_seconds']) {
      expect(text).toMatch(new RegExp(`^${name}\\{connection="db"\\} `, 'm'));
    }
    expect(valueOf(text, 'tcp_state', 'db')).toBe(1);
    expect(valueOf(text, 'tcp_bytes_acked_total', 'db')).toBe(written + 1); // + the SYN
    expect(valueOf(text, 'tcp_send_queue_bytes', 'db')).toBe(0);
    expect(valueOf(text, 'tcp_unacknowledged_bytes', 'db')).toBe(0);
    expect(valueOf(text, 'tcp_cwnd_segments', 'db')).toBe(info.sndCwnd);
    const rtt = valueOf(text, 'tcp_rtt_seconds', 'db');
    expect(rtt).toBeGreaterThan(0);
    expect(rtt).toBeLessThan(0.1);
    expect(valueOf(text, 'tcp_mss_bytes', 'db')).toBe(info.sndMss);
    if (info.totalRto !== undefined) expect(text).toMatch(/^tcp_rto_timeouts_total\{connection="db"\} 0$/m);
  });

  test('a closed connection disappears from the next scrape, without errors', async () => {
    const registry = new Registry();
    const tracked: Map<string, net.Socket> = trackConnections(registry);
    const other = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => other.once('connect', r));
    tracked.set('short', other);
    expect(await registry.metrics()).toMatch(/^tcp_state\{connection="short"\} 1$/m);
    other.destroy();
    await new Promise((r) => other.once('close', r));
    const text = await registry.metrics();
    expect(text).not.toContain('connection="short"');
    expect(tracked.has('short')).toBe(false);
  });
});
