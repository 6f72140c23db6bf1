/**
 * The shape shared by the single-client integration tests: a real server in
 * namespace b, two clients in namespace a (one with failFast, one plain), the
 * host vanishes (no FIN, no RST), the failFast client's call fails within the
 * timeout + 1 s and the plain one is still pending at the bound.
 */
import { ADDR_B, describeNetns, fixture, NetPair } from './netns';
import { expectStillPending, TestServer } from './servers';

export const TIMEOUT_MS = 3000;
export const PLAIN_BOUND_MS = 15_000;

export interface VanishClientCase {
  /** describe() title. */
  title: string;
  /** Prefix of the logged summary line. */
  label: string;
  /** test/fixtures file run in namespace a with [ADDR_B, port, mode, timeout]. */
  client: string;
  port: number;
  /** Why the server cannot run here, or null. */
  unavailable(): string | null;
  start(pair: NetPair): Promise<TestServer>;
  startTimeoutMs: number;
  /** The value each client reports once connected. */
  readyValue: unknown;
  /** The assertions specific to this client on the failFast side's result. */
  checkResult(result: any): void;
}

export function describeVanishedServer(c: VanishClientCase): void {
  describeNetns(c.title, () => {
    let pair: NetPair;
    let server: TestServer | undefined;
    beforeAll(async () => {
      const missing = c.unavailable();
      if (missing) throw new Error(missing);
      pair = NetPair.create();
      server = await c.start(pair);
    }, c.startTimeoutMs);
    afterAll(() => {
      server?.stop();
      pair?.destroy();
    });

    test(`fails within timeout + 1 s with failFast, is still pending after ${PLAIN_BOUND_MS / 1000} s without`, async () => {
      const port = String(c.port);
      const fast = pair.spawnNode(pair.a, fixture(c.client), [ADDR_B, port, 'failfast', String(TIMEOUT_MS)]);
      const plain = pair.spawnNode(pair.a, fixture(c.client), [ADDR_B, port, 'plain', String(TIMEOUT_MS)]);
      expect((await fast.waitFor((m) => m.type === 'ready', 15_000)).value).toBe(c.readyValue);
      expect((await plain.waitFor((m) => m.type === 'ready', 15_000)).value).toBe(c.readyValue);

      pair.vanish();
      const goAt = Date.now();
      fast.send({ cmd: 'go' });
      plain.send({ cmd: 'go' });

      const result = await fast.waitFor((m) => m.type === 'result', TIMEOUT_MS + 5000);
      expect(result.ok).toBe(false);
      expect(result.elapsedMs).toBeLessThanOrEqual(TIMEOUT_MS + 1000);
      c.checkResult(result);

      const check = await expectStillPending(plain, goAt, PLAIN_BOUND_MS);
      console.log(`${c.label}: failFast(${TIMEOUT_MS} ms) rejected after ${Math.round(result.elapsedMs)} ms (${result.message}); ` +
        `plain still pending after ${PLAIN_BOUND_MS} ms, ${check.retransmits} retransmissions, ${check.sendQueue} B unacknowledged`);
    }, 60_000);
  });
}
