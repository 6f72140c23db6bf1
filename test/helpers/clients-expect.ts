/**
 * The assertions every protected client of the matrix shares
 * (test/helpers/clients.ts, test/fixtures/clients-driver.js).
 */
import { CaseName, CASES } from './clients';

const died = (s: any) => s.error?.code === 'ETIMEDOUT';

/**
 * Each case failed within `timeoutMs + 1000` of the operation's issue, measured
 * in the child. No slack on top: the issue's claim IS this bound (the 1 s
 * already covers the poll interval and event-loop delays). Also checks that
 * each case exercised what it says: (a) its connection died of ETIMEDOUT; (b)
 * its pooled connection was still open when written to and then died of
 * ETIMEDOUT; (c) a fresh connection was tried, never connected, and died of
 * ETIMEDOUT (the SYN was bounded, not the client's own connect timeout).
 */
export function expectProtected(r: Record<CaseName, any>, timeoutMs: number, cases: readonly CaseName[] = CASES): void {
  for (const k of cases) {
    expect({ case: k, settled: !r[k].missing, ok: r[k].ok }).toEqual({ case: k, settled: true, ok: false });
    expect({ case: k, withinBound: r[k].elapsedMs <= timeoutMs + 1000, elapsedMs: r[k].elapsedMs })
      .toMatchObject({ case: k, withinBound: true });
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
