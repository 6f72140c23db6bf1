/**
 * failFast against the real kernel: a peer in namespace B vanishes (nftables
 * drops everything) while the client in namespace A writes, idles, is paused,
 * or is still connecting. Each scenario gets its own pair of namespaces and
 * they run concurrently.
 */
import { ADDR_B, Child, describeNetns, fixture, NetPair } from './helpers/netns';

const PORT = 7000;
const SLACK_MS = 1000; // the bound: error within timeout + 1 s

interface Scenario { pair: NetPair; peer: Child; client: Child }

const pairs: NetPair[] = [];

async function start(mode: string, timeout: number, extra: Record<string, unknown> = {}, connectFirst = true): Promise<Scenario> {
  const pair = NetPair.create();
  pairs.push(pair);
  const peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, String(PORT)]);
  await peer.waitFor((m) => m.type === 'listening', 10_000);
  if (!connectFirst) pair.vanish();
  const client = pair.spawnNode(pair.a, fixture('failfast-client.js'),
    [JSON.stringify({ host: ADDR_B, port: PORT, timeout, mode, ...extra })]);
  if (connectFirst) await client.waitFor((m) => m.type === 'connected', 10_000);
  return { pair, peer, client };
}

/** The peer's byte counts: read by its application, and accepted by its kernel (read or not). */
function peerStats(peer: Child): Promise<{ received: number; total: number }> {
  return peer.request({ cmd: 'stats' }, 'stats', 5000);
}

/**
 * Wall-clock ms on this host's clock, comparable across processes (the
 * child stamps its 'error' the same way), so jest's own event-loop delay
 * under load does not count against the bound.
 */
const clock = (): number => performance.timeOrigin + performance.now();

/** Vanishes B and returns the time (see clock()) at which the drop rules were in force. */
function vanish(s: Scenario): number {
  s.pair.vanish();
  const at = clock();
  s.client.send({ cmd: 'vanished' });
  return at;
}

describeNetns('failFast: the peer vanishes', () => {
  afterAll(() => { for (const p of pairs) p.destroy(); });

  test.concurrent('while the client writes: ETIMEDOUT within timeout + 1 s, reason retransmit, no over-claimed delivery', async () => {
    const timeout = 2000;
    const s = await start('write', timeout, { chunk: 1000, every: 20 });
    await new Promise((r) => setTimeout(r, 500)); // traffic flowing, ACKs coming back
    const at = vanish(s);
    const err = await s.client.waitFor((m) => m.type === 'error', timeout + SLACK_MS + 2000);
    const elapsed = err.at - at;
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.reason).toBe('retransmit');
    expect(elapsed).toBeLessThanOrEqual(timeout + SLACK_MS);
    // The death carries diagnose()'s verdict and is published on tcp-vitals:death.
    expect({ verdict: err.verdict, published: err.published }).toEqual({ verdict: 'network', published: true });
    // Nothing sent after the vanish can have arrived, so the peer's count is final.
    const peerCounts = await peerStats(s.peer);
    expect(err.unacknowledgedBytes).toBeGreaterThan(0);
    expect(err.written - err.unacknowledgedBytes).toBeLessThanOrEqual(peerCounts.total);
    // What was acknowledged before the vanish is counted as delivered.
    expect(err.written - err.unacknowledgedBytes).toBeGreaterThan(0);
  });

  test.concurrent('while the client writes, with retain(): the error carries exactly the unacknowledged suffix', async () => {
    const timeout = 2000;
    const s = await start('write', timeout, { chunk: 1000, every: 20, retain: true });
    await new Promise((r) => setTimeout(r, 500));
    vanish(s);
    const err = await s.client.waitFor((m) => m.type === 'error', timeout + SLACK_MS + 2000);
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.hasUnacknowledgedBuffer).toBe(true);
    expect(err.unacknowledgedLength).toBe(err.unacknowledgedBytes);
    expect(err.unacknowledgedIsSuffix).toBe(true);
    const peerCounts = await peerStats(s.peer);
    expect(err.written - err.unacknowledgedLength).toBeLessThanOrEqual(peerCounts.total);
  });

  test.concurrent('while the client is idle (reading): ETIMEDOUT within timeout + 1 s from the keepalive path', async () => {
    const timeout = 3000;
    const s = await start('idle', timeout);
    const at = vanish(s);
    const err = await s.client.waitFor((m) => m.type === 'error', timeout + SLACK_MS + 2000);
    const elapsed = err.at - at;
    expect(err.code).toBe('ETIMEDOUT');
    // The kernel's keepalive timer kills it (TCP_USER_TIMEOUT with a probe
    // outstanding); libuv reports ETIMEDOUT on read and failFast adds the reason.
    expect(err.reason).toBe('keepalive');
    expect(err.syscall).toBe('read');
    expect(err.unacknowledgedBytes).toBe(0);
    expect(elapsed).toBeLessThanOrEqual(timeout + SLACK_MS);
    expect({ verdict: err.verdict, published: err.published }).toEqual({ verdict: 'network', published: true });
  });

  test.concurrent('idle at the vanish, written 2 s later: ETIMEDOUT within timeout + 1 s of the vanish (not timeout after the write)', async () => {
    const timeout = 3000;
    const s = await start('idle-write', timeout);
    await new Promise((r) => setTimeout(r, 300));
    const at = vanish(s);
    await new Promise((r) => setTimeout(r, 2000));
    s.client.send({ cmd: 'write' });
    // The keepalive path may already have killed it (its probes started while idle): then there was no
    // write to account, and the bound from the vanish is what is under test either way.
    const first = await s.client.waitFor((m) => m.type === 'wrote' || m.type === 'error', 5000);
    const err = first.type === 'error' ? first : await s.client.waitFor((m) => m.type === 'error', timeout + SLACK_MS + 5000);
    expect(err.code).toBe('ETIMEDOUT');
    expect(['retransmit', 'keepalive']).toContain(err.reason);
    if (first.type === 'wrote') expect(err.unacknowledgedBytes).toBeGreaterThan(0);
    expect({ verdict: err.verdict, published: err.published }).toEqual({ verdict: 'network', published: true });
    // Plain TCP_USER_TIMEOUT counts from the first retransmission of the write: ~5.2 s here.
    console.log(`failFast idle-then-written (${first.type === 'wrote' ? 'written' : 'died before the write'}): ${err.reason} after ${Math.round(err.at - at)} ms (silent ${err.silentMs} ms)`);
    expect(err.at - at).toBeLessThanOrEqual(timeout + SLACK_MS);
  });

  test.concurrent('while the client socket is paused: the watcher reports what Node does not', async () => {
    const timeout = 2000;
    const s = await start('paused', timeout);
    const at = vanish(s);
    const err = await s.client.waitFor((m) => m.type === 'error' && m.label === 'main', timeout + SLACK_MS + 2000);
    const elapsed = err.at - at;
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.reason).toBe('keepalive');
    expect(err.syscall).toBe('tcp-vitals');
    expect(err.message).toMatch(/kernel closed the connection/);
    expect(elapsed).toBeLessThanOrEqual(timeout + SLACK_MS);
    // The control socket has the same kernel options but no watcher: the
    // kernel closed it too, and Node said nothing.
    await new Promise((r) => setTimeout(r, 500));
    s.client.send({ cmd: 'control-state' });
    const control = await s.client.waitFor((m) => m.type === 'control-state', 5000);
    expect(control).toEqual({ type: 'control-state', state: 'CLOSE', destroyed: false });
    expect(s.client.messages.some((m) => m.type === 'error' && m.label === 'control')).toBe(false);
  });

  test.concurrent('while connecting: failFast applied during connect gives ETIMEDOUT within timeout + 1 s', async () => {
    const timeout = 2000;
    const s = await start('connect', timeout, {}, false);
    const err = await s.client.waitFor((m) => m.type === 'error', timeout + SLACK_MS + 5000);
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.reason).toBe('retransmit');
    expect(err.syscall).toBe('connect'); // Node's own error, augmented
    expect(err.elapsedMs).toBeLessThanOrEqual(timeout + SLACK_MS); // measured in the child from net.connect()
    expect(s.client.messages.some((m) => m.type === 'connected')).toBe(false);
  });
});
