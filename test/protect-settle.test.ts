/**
 * protect() gives an outbound connection its kernel options in a settle pass
 * (timeout / 20 after connect, 100..500 ms), not at connect: a connection
 * closed before the pass costs no syscall. Checked on the real kernel:
 *
 * - loopback (a child running protect(), options read raw from the kernel):
 *   nothing at connect, everything after the pass; getOptions() settles a
 *   pending socket first; the application's own setOptions() right after
 *   connect is not overwritten by the pass; connections closed before the
 *   pass are counted and fail nothing;
 * - network namespaces (the preload, timeout 10 s: a 500 ms settle delay):
 *   a peer that vanishes right after the handshake, before the pass, is still
 *   reported within timeout + 1 s (the kernel counts TCP_USER_TIMEOUT from the
 *   first unacknowledged transmission and keepalive from the last segment
 *   received, not from the setsockopt).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ADDR_B, Child, describeNetns, fixture, NetPair } from './helpers/netns';

const root = join(__dirname, '..');

describe('settle pass on loopback', () => {
  let r: Record<string, any>;
  beforeAll(() => {
    const out = execFileSync(process.execPath, [join(__dirname, 'fixtures', 'protect-settle.js'), root],
      { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const parsed = JSON.parse(out.trim().split('\n').pop()!);
    expect(parsed.errors).toEqual([]);
    r = parsed.results;
  }, 90_000);

  test('no option at connect; TCP_USER_TIMEOUT and keepalive after the pass', () => {
    expect(r.lazy).toEqual({ atConnect: 0, keepAliveAtConnect: 0, afterPass: 3800, keepAliveAfterPass: 1 });
  });

  test('getOptions() right after connect settles first: it shows protect()\'s options', () => {
    expect(r.read).toEqual({ getOptions: 3800, rawAfterRead: 3800 });
  });

  test('setOptions() right after connect stands: the pass does not overwrite it', () => {
    expect(r.own).toEqual({ afterPass: 12345 });
  });

  test('connections closed before the pass are counted, fail nothing, and leave no slot', () => {
    expect(r.short.protected).toBe(20);
    expect(r.short.failed).toBe(0);
    expect(r.short.protectedNow).toBe(3); // a, b and c, still open
  });
});

const PORT = 7380;
const TIMEOUT = 10_000; // settle delay 500 ms
const SLACK_MS = 1000;
const REGISTER = join(root, 'dist', 'register.js');
const clock = (): number => performance.timeOrigin + performance.now();

describeNetns('settle pass: the peer vanishes before it', () => {
  const pairs: NetPair[] = [];
  afterAll(() => { for (const p of pairs) p.destroy(); });

  async function vanishAtConnect(mode: string): Promise<{ err: Record<string, any>; at: number; connectedAt: number; client: Child }> {
    const pair = NetPair.create();
    pairs.push(pair);
    const peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, String(PORT)]);
    await peer.waitFor((m) => m.type === 'listening', 10_000);
    const client = pair.spawnNode(pair.a, '--require', [REGISTER, fixture('protect-client.js'),
      JSON.stringify({ host: ADDR_B, port: PORT, mode, chunk: 1000, every: 20 })], { TCP_VITALS_TIMEOUT: `${TIMEOUT / 1000}s` });
    const connected = await client.waitFor((m) => m.type === 'connected', 10_000);
    pair.vanish();
    const at = clock();
    const err = await client.waitFor((m) => m.type === 'error', TIMEOUT + SLACK_MS + 5000);
    return { err, at, connectedAt: connected.at, client };
  }

  test.concurrent('while sending from the first moment: ETIMEDOUT within timeout + 1 s of the vanish', async () => {
    const { err, at, connectedAt } = await vanishAtConnect('write');
    expect(at - connectedAt).toBeLessThan(500); // the vanish came before the pass (when the machine allows)
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.at - at).toBeLessThanOrEqual(TIMEOUT + SLACK_MS);
  }, 30_000);

  test.concurrent('idle from the first moment: the keepalive verdict within timeout + 1 s of the last segment heard', async () => {
    const { err, at } = await vanishAtConnect('idle');
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.reason).toBe('keepalive');
    expect(err.at - at).toBeLessThanOrEqual(TIMEOUT + SLACK_MS);
  }, 30_000);

  test.concurrent('paused from the first moment (Node not reading): the verdict still arrives', async () => {
    const { err, at } = await vanishAtConnect('paused');
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.at - at).toBeLessThanOrEqual(TIMEOUT + SLACK_MS);
  }, 30_000);
});
