/**
 * The real-client matrix (issue 9): every client runs twice in namespace A,
 * under the preload (`node --require dist/register.js`, TCP_VITALS_TIMEOUT)
 * and plainly, against real servers in namespace B; then B vanishes (nftables
 * drops everything) and each protected client reports three cases
 * (test/fixtures/clients-driver.js):
 *   a: an operation in flight at the vanish,
 *   b: an operation issued 2 s after the vanish on a connection idle in the pool,
 *   c: the immediate retry, on a fresh connection (its SYN goes unanswered).
 * All clients of a file share one namespace pair and one vanish, and run in
 * parallel, so the whole matrix costs one timeout plus the baseline's bound.
 */
import { writeFileSync } from 'node:fs';
import type { Child, NetPair } from './netns';

export type CaseName = 'a' | 'b' | 'c';
export const CASES: readonly CaseName[] = ['a', 'b', 'c'];

/** One client of the matrix: how to start it protected or plain. */
export interface MatrixClient {
  name: string;
  /** Starts the client's fixture in namespace A; resolves once it is ready (sent 'ready'). */
  start(pair: NetPair, preloaded: boolean): Promise<Child>;
}

/** What one client did. */
export interface ClientRun {
  name: string;
  protectedChild: Child;
  plain: Child;
  /** The protected child's result per case. */
  results: Record<CaseName, any>;
}

export interface MatrixRun {
  /** Date.now() right after the vanish. */
  goAt: number;
  clients: Record<string, ClientRun>;
}

/** Waits for the 'ready' message of a child the client's start() spawned. */
export async function ready(child: Child, timeoutMs = 30_000): Promise<Child> {
  await child.waitFor((m) => m.type === 'ready', timeoutMs);
  return child;
}

/**
 * Starts every client (protected and plain), arms them, makes B vanish, and
 * collects the protected children's three results. The plain children are
 * left running for the baseline checks (expectStillPending at the bound).
 */
export async function runMatrix(pair: NetPair, clients: MatrixClient[], timeoutMs: number): Promise<MatrixRun> {
  const started = await Promise.all(clients.map(async (c) => {
    const [protectedChild, plain] = await Promise.all([c.start(pair, true), c.start(pair, false)]);
    return { name: c.name, protectedChild, plain };
  }));
  const all = started.flatMap((s) => [s.protectedChild, s.plain]);
  // One more operation on every connection: each peer was heard from just before it vanishes.
  const armed = await Promise.all(all.map((child) => child.request({ cmd: 'arm' }, 'armed', 15_000)));
  const failedArm = armed.find((m) => m.error);
  if (failedArm) throw new Error(`arm failed: ${JSON.stringify(failedArm.error)}`);

  pair.vanish();
  const goAt = Date.now();
  for (const child of all) child.send({ cmd: 'go' });

  // Case c starts when a fails (~timeout), so c ends after ~2 timeouts; x3 for a busy machine.
  const bound = 3 * (2 * timeoutMs + 1000);
  const runs: Record<string, ClientRun> = {};
  await Promise.all(started.map(async (s) => {
    const results = {} as Record<CaseName, any>;
    for (const k of CASES) {
      // A case that never settles is recorded as missing (its client's test then fails), not thrown.
      results[k] = await s.protectedChild.waitFor((m) => m.type === 'result' && m.case === k, Math.max(1000, goAt + bound - Date.now()))
        .catch((e: Error) => ({ missing: true, error: { message: e.message.split('\n')[0] } }));
    }
    runs[s.name] = { ...s, results };
  }));
  return { goAt, clients: runs };
}

/** A compact "elapsed from the issue (from the last time heard), error" cell for the report table. */
export function cell(r: any): string {
  if (!r) return '-';
  if (r.missing) return 'no result (still pending)';
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const time = r.sinceArmedMs != null ? `${s(r.elapsedMs)} (${s(r.sinceArmedMs)} since heard)` : s(r.elapsedMs);
  if (r.ok) return `ok ${time}`;
  const e = r.error ?? {};
  const kind = e.closeCode !== undefined ? `close ${e.closeCode}`
    : typeof e.code === 'number' ? `status ${e.code}`
      : [e.name, e.code, e.cause?.code].filter(Boolean).join(' ');
  return `${time}, ${kind}`;
}

/** The client x case table (markdown) of a run. */
export function table(title: string, run: MatrixRun): string {
  const rows = Object.values(run.clients).map((c) => `| ${c.name} | ${CASES.map((k) => cell(c.results[k])).join(' | ')} |`);
  return [`${title}`, '| client | a: in flight | b: idle, written 2 s after | c: immediate retry |', '|---|---|---|---|', ...rows].join('\n');
}

/** With TV_CLIENTS_DUMP=<file>, writes every result of the run there (JSON), for reading the errors in full. */
export function dumpRun(run: MatrixRun): void {
  const file = process.env.TV_CLIENTS_DUMP;
  if (!file) return;
  writeFileSync(file, JSON.stringify(Object.fromEntries(Object.values(run.clients).map((c) => [c.name, c.results])), null, 1));
}
