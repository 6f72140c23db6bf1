/**
 * Two loaded copies of the package share the process-wide state (issue 19
 * item 4): the registry of connections, protect.scope()'s storage and the
 * death channel. The common deployment: NODE_OPTIONS=--require <preload copy>
 * next to the app's own tcp-vitals/prometheus. And what happens when the two
 * copies' shared-state layouts differ: each keeps its own, with one warning.
 * Runs in child processes (the hooks are process-wide).
 */
import { SHARED_VERSION } from '../lib/runtime/shared';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
let dir: string;
const run = (mode: string) => {
  const text = execFileSync(process.execPath, [join(__dirname, 'fixtures', 'two-copies.js'), dir, mode],
    { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(text.trim().split('\n').pop()!);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-two-copies-'));
  for (const d of ['dist', 'prebuilds', 'package.json']) cpSync(join(root, d), join(dir, d), { recursive: true });
  cpSync(join(root, 'node_modules', 'node-gyp-build'), join(dir, 'node_modules', 'node-gyp-build'), { recursive: true });
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

test('same layout: one registry, one scope storage, one death channel for both copies', () => {
  const r = run('same');
  expect(r.failed).toBeUndefined();
  expect(r.copiesDiffer).toBe(true);
  expect(r.registry).toEqual({ a: 2, b: 2 }); // B's protect() registered both; A counts them
  expect(r.aExposesPeer).toBe(true); // A's Prometheus collector reports B's sockets
  expect(r.userTimeout).toEqual({ plain: 3800, scoped: 7800 }); // A's scope() steers B's protect()
  expect(r.deathsSeenByA).toEqual(['ETIMEDOUT']);
  expect(r.warnings).toEqual([]);
});

test('different layouts: each copy keeps its own state and works; one warning per copy that could not share', () => {
  const r = run('mismatch');
  expect(r.failed).toBeUndefined();
  // Neither copy could take the slot (another layout holds it): both warn, each counts only its own.
  expect(r.warnings).toHaveLength(2);
  expect(r.warnings[0]).toMatch(new RegExp(`another loaded copy of tcp-vitals keeps its process-wide state in layout 999, this copy in layout ${SHARED_VERSION}:`));
  expect(r.registry).toEqual({ a: 0, b: 2 });
  expect(r.aExposesPeer).toBe(false);
  expect(r.userTimeout).toEqual({ plain: 3800, scoped: 3800 }); // A's scope does not reach B's protect()
  expect(r.deathsSeenByA).toEqual(['ETIMEDOUT']); // the channel is Node's, by name: deaths still meet
});
