/**
 * The assertions every protected client of the matrix shares
 * (test/helpers/clients.ts, test/fixtures/clients-driver.js).
 */
import { CaseName, CASES } from './clients';

const died = (s: any) => s.error?.code === 'ETIMEDOUT';

/**
 * The issue's bound, with no slack on top (the claim IS the bound; its 1 s
 * covers the poll interval and event-loop delays):
 * - (a) and (b) failed within `timeoutMs + 1000` of the last moment the peer
 *   was heard from on that connection (sinceArmedMs: from the arrival of its
 *   'arm' reply, just before the vanish; an upper estimate). For (b) this is
 *   the point: measured from the write alone, a connection that dies
 *   `timeout` after the write's first retransmission (~5.2 s after the vanish
 *   at 3 s) would pass;
 * - every case failed within `timeoutMs + 1000` of the operation's issue
 *   (for (c), the fresh connection, this is the bound: it was never heard from).
 * Also checks that each case exercised what it says: (a) its connection died
 * of ETIMEDOUT; (b) its pooled connection was still open when written to and
 * then died of ETIMEDOUT; (c) a fresh connection was tried, never connected,
 * and died of ETIMEDOUT (the SYN was bounded, not the client's own connect
 * timeout, which destroys the socket without an error).
 */
export function expectProtected(r: Record<CaseName, any>, timeoutMs: number, cases: readonly CaseName[] = CASES): void {
  const bound = timeoutMs + 1000;
  for (const k of cases) {
    expect({ case: k, settled: !r[k].missing, ok: r[k].ok }).toEqual({ case: k, settled: true, ok: false });
    expect({ case: k, withinBoundOfIssue: r[k].elapsedMs <= bound, elapsedMs: r[k].elapsedMs })
      .toMatchObject({ case: k, withinBoundOfIssue: true });
    if (k !== 'c') {
      expect({ case: k, withinBoundOfLastHeard: r[k].sinceArmedMs <= bound, sinceArmedMs: r[k].sinceArmedMs })
        .toMatchObject({ case: k, withinBoundOfLastHeard: true });
    }
  }
  if (cases.includes('a')) expect({ case: 'a', sockets: r.a.sockets.filter(died).length }).toEqual({ case: 'a', sockets: 1 });
  if (cases.includes('b')) {
    expect({ case: 'b', openAtIssue: r.b.openAtIssue }).toEqual({ case: 'b', openAtIssue: 1 });
    expect({ case: 'b', sockets: r.b.sockets.filter(died).length }).toEqual({ case: 'b', sockets: 1 });
  }
  if (cases.includes('c')) {
    const fresh = r.c.sockets.filter((s: any) => !s.connected && died(s));
    expect({ case: 'c', freshUnconnectedTimedOut: fresh.length >= 1, sockets: r.c.sockets })
      .toMatchObject({ case: 'c', freshUnconnectedTimedOut: true });
  }
}
