/**
 * tcp-vitals/prometheus over connections that only the preload protects (no
 * track(), no per-socket code): the scrape shows the connection by peer, and
 * after the peer vanishes the death by reason and its detection time.
 */
import { join } from 'node:path';
import { ADDR_B, describeNetns, fixture, NetPair } from './helpers/netns';
import { parseExposition, sample } from './integration-prometheus-exposition';

const PORT = 7300;
const REGISTER = join(__dirname, '..', 'dist', 'register.js');
const pairs: NetPair[] = [];

describeNetns('prometheus metrics of protect()ed connections (preload only)', () => {
  afterAll(() => { for (const p of pairs) p.destroy(); });

  test('the connection appears by peer; its death is counted by reason with its detection time', async () => {
    const pair = NetPair.create();
    pairs.push(pair);
    const peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, String(PORT)]);
    await peer.waitFor((m) => m.type === 'listening', 10_000);
    const client = pair.spawnNode(pair.a, '--require', [REGISTER, fixture('metrics-protect-client.js'), ADDR_B, String(PORT)],
      { TCP_VITALS_TIMEOUT: '3s' });
    await client.waitFor((m) => m.type === 'connected', 10_000);
    const before = parseExposition((await client.request({ cmd: 'scrape' }, 'scrape', 10_000)).text);
    const peerLabels = { network_transport: 'tcp', network_peer_address: ADDR_B, network_peer_port: String(PORT) };
    expect(sample(before, 'system_network_tcp_connection_count', { ...peerLabels, network_connection_state: 'established' })).toBe(1);
    // The preload's connect was timed: one handshake, SYN to established (a veth round trip: well under 5 s).
    expect(sample(before, 'system_network_tcp_handshake_duration_seconds_count', { ...peerLabels, network_tcp_handshake_role: 'client' })).toBe(1);
    expect(sample(before, 'system_network_tcp_handshake_duration_seconds_sum', { ...peerLabels, network_tcp_handshake_role: 'client' })).toBeLessThan(5);

    pair.vanish();
    const err = await client.waitFor((m) => m.type === 'error', 15_000);
    expect(err).toMatchObject({ code: 'ETIMEDOUT', reason: 'keepalive' });
    const after = parseExposition((await client.request({ cmd: 'scrape' }, 'scrape', 10_000)).text);
    expect(sample(after, 'tcp_vitals_connection_deaths_total', { reason: 'keepalive' })).toBe(1);
    expect(sample(after, 'tcp_vitals_death_detection_duration_seconds_count', {})).toBe(1);
    // The detection time is the peer's silence at detection: about the timeout (3 s), never more than timeout + 1 s.
    const seconds = sample(after, 'tcp_vitals_death_detection_duration_seconds_sum', {});
    expect(seconds).toBeGreaterThan(1);
    expect(seconds).toBeLessThanOrEqual(4);
  });
});
