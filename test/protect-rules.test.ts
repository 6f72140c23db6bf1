/**
 * protect() rules and lifecycle against loopback servers: include/exclude
 * (port, host:port, IPv4/IPv6 CIDR), match(), scope(), servers, setKeepAlive
 * re-apply, no double protection (two protect()s, two copies of the package),
 * failFast() taking a protected socket over, happy-eyeballs fallback, stop()
 * and signal, bad options. Runs in a child process (the hooks are process-wide).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
let r: Record<string, any>;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-protect-copy-'));
  for (const d of ['dist', 'prebuilds', 'package.json']) cpSync(join(root, d), join(dir, d), { recursive: true });
  cpSync(join(root, 'node_modules', 'node-gyp-build'), join(dir, 'node_modules', 'node-gyp-build'), { recursive: true });
  const out = execFileSync(process.execPath, [join(__dirname, 'fixtures', 'protect-rules.js'), dir], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const parsed = JSON.parse(out.trim().split('\n').pop()!);
  expect(parsed.errors).toEqual([]);
  r = parsed.results;
}, 90_000);
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const T = 3800; // TCP_USER_TIMEOUT for timeout 4000 (timeout - 200 ms)

test('exclude :port skips that port only', () => {
  expect(r.exclude).toMatchObject({ a: T, b: 0 });
  expect(r.exclude.stats.skipped.exclude).toBe(1);
});

test('include CIDR: 127.0.0.0/8 covers IPv4 loopback, not ::1', () => {
  expect(r.includeCidr.v4).toBe(T);
  if (r.includeCidr.v6 !== null) expect(r.includeCidr.v6).toBe(0);
  expect(r.includeCidr.stats.skipped.include).toBe(r.includeCidr.v6 === null ? 0 : 1);
});

test('include ::1/128 and host:port: the name as the application gave it, and the port, must match', () => {
  if (r.includeHost.v6 !== null) expect(r.includeHost.v6).toBe(T);
  expect(r.includeHost).toMatchObject({ byName: T, byAddress: 0, otherPort: 0 });
});

test('match(): false skips, { timeout } overrides; conn has direction, host, port, address, family, localPort', () => {
  expect(r.match).toMatchObject({ a: 0, b: 5800 });
  expect(r.match.conn).toMatchObject({ direction: 'outbound', host: '127.0.0.1', address: '127.0.0.1', family: 4 });
  expect(r.match.conn.localPort).toBeGreaterThan(0);
  expect(r.match.stats.skipped.match).toBe(1);
});

test('a match() that throws protects with the default timeout and warns once', () => {
  expect(r.matchThrows).toEqual({ a: T, b: T, warnings: 1 });
});

test('scope(): connections opened in the async context get its timeout (also after a timer and a DNS lookup)', () => {
  expect(r.scope).toEqual({ direct: 7800, later: 7800, outside: T });
  expect(r.scopeBad).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
});

test('setKeepAlive() after connect, and net.connect keepAlive, do not undo the options', () => {
  expect(r.keepAlive).toEqual({ before: 2000, after: 2000, userTimeout: T });
  expect(r.keepAliveOption).toEqual({ idle: 2000 });
});

test('never protected twice: a second protect() and a second copy of the package leave it to the first', () => {
  expect(r.once.userTimeout).toBe(T);
  expect(r.once.totals.slice(1)).toEqual([0, 0]);
});

test('failFast() on a protected socket takes it over: its options win and protect() stops re-applying', () => {
  expect(r.failFast).toEqual({ userTimeout: 4800, idleAfterSetKeepAlive: 60000, handedOver: 1 });
});

test('servers: accepted sockets are protected only with servers: true', () => {
  expect(r.serversOff).toBe(0);
  expect(r.serversOn).toEqual({ inbound: T, registered: true });
});

test('happy eyeballs (::1 refuses, 127.0.0.1 answers): the winning attempt is protected and a reset reaches a paused socket', () => {
  expect(r.happyEyeballs.userTimeout).toBe(T);
  expect(r.happyEyeballs.remote).toBe('127.0.0.1');
  expect(r.happyEyeballs.reading).toBe(false);
  expect(r.happyEyeballs.error).toEqual({ code: 'ECONNRESET', syscall: 'read' });
  expect(r.happyEyeballs.stats.deaths.reset).toBe(1);
});

test('stop() and an aborted signal end protection of new connections', () => {
  expect(r.afterStop).toBe(0);
  expect(r.beforeAbort).toBe(T);
  expect(r.afterAbort).toBe(0);
});

test('bad options are Node-shaped errors', () => {
  expect(r.badOptions.timeout).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  expect(r.badOptions.cidr).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  expect(r.badOptions.match).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  expect(r.badOptions.servers).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  expect(r.badOptions.aborted).toMatchObject({ code: 'ERR_INVALID_STATE' });
});
