/**
 * A namespace pair with test/fixtures/echo-peer.js listening in b on
 * ADDR_B:7000, for tests that then run a client in a and make b vanish.
 * Call echoPeerPair() inside a describeNetns: it registers the afterAll that
 * kills the client and the peer and deletes the pair (even on failure).
 */
import { ADDR_B, Child, fixture, NetPair } from './netns';

export const ECHO_PORT = 7000;

export interface EchoPeerPair {
  readonly pair: NetPair;
  readonly peer: Child;
  /** Creates the pair, applies sysctls in namespace a, starts the peer and waits for it to listen. */
  start(sysctls?: Record<string, number>): Promise<void>;
  /** Spawns fixture(name) in namespace a with { host: ADDR_B, port } and returns its 'ready' message. */
  spawnClient(name: string): Promise<{ client: Child; ready: any }>;
  /** Extra cleanup, run first in afterAll. */
  onCleanup(fn: () => void): void;
}

export function echoPeerPair(): EchoPeerPair {
  let pair: NetPair | undefined;
  let peer: Child | undefined;
  let client: Child | undefined;
  const cleanups: Array<() => void> = [];
  afterAll(() => {
    for (const fn of cleanups) fn();
    client?.kill();
    peer?.kill();
    pair?.destroy();
  });
  return {
    get pair() { return pair!; },
    get peer() { return peer!; },
    async start(sysctls = {}) {
      pair = NetPair.create();
      for (const [name, value] of Object.entries(sysctls)) pair.sysctl(pair.a, name, value);
      peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, String(ECHO_PORT)]);
      await peer.waitFor((m) => m.type === 'listening', 15_000);
    },
    async spawnClient(name) {
      client = pair!.spawnNode(pair!.a, fixture(name), [JSON.stringify({ host: ADDR_B, port: ECHO_PORT })]);
      const ready = await client.waitFor((m) => m.type === 'ready', 15_000);
      return { client, ready };
    },
    onCleanup(fn) { cleanups.push(fn); },
  };
}
