/**
 * Installs everywhere, works on Linux. Off Linux (macOS, Windows, FreeBSD;
 * here: process.platform faked in child processes, before anything loads):
 * - npm's own platform check (npm-install-checks, as npm runs it) accepts the
 *   packed package.json (no "os" field); the old `"os": ["linux"]` fails it;
 * - the install script does nothing (no build attempt, no compiler needed),
 *   where on Linux without a prebuild it would build;
 * - require('tcp-vitals') loads; `tcp-vitals/register` and protect() do
 *   nothing and say so with one warning (code TCP_VITALS_UNSUPPORTED_PLATFORM,
 *   silenceable), exit 0;
 * - every function that needs the kernel throws (or rejects with)
 *   ERR_TCP_VITALS_UNSUPPORTED_PLATFORM; the model functions still compute.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const PLATFORMS = ['darwin', 'win32', 'freebsd'] as const;
const { checkPlatform } = require('npm-install-checks') as {
  checkPlatform(pkg: object, force: boolean, env: { os: string; cpu: string; libc?: string }): void;
};

let dir = '';
let pkgJson: Record<string, unknown> = {};
let preload = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-platforms-'));
  // The package.json exactly as packed (npm pack normalizes it).
  const info = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--dry-run'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 }))[0];
  expect(info.files.map((f: { path: string }) => f.path)).toContain('scripts/install.js');
  pkgJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  // An installed copy as a macOS user gets it: package.json, dist/, the install script, node-gyp-build; no prebuild fits there.
  const pkg = join(dir, 'node_modules', 'tcp-vitals');
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'scripts', 'install.js'), join(pkg, 'scripts', 'install.js'));
  cpSync(join(ROOT, 'node_modules', 'node-gyp-build'), join(dir, 'node_modules', 'node-gyp-build'), { recursive: true });
  preload = join(dir, 'fake-platform.js');
  writeFileSync(preload, "Object.defineProperty(process, 'platform', { value: process.env.FAKE_PLATFORM });\n");
}, 150_000);
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

/** Runs node with the platform faked, in the installed copy, with no compiler reachable. */
function node(platform: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, FAKE_PLATFORM: platform, PATH: '/nonexistent', ...extraEnv };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, ['-r', preload, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("npm's platform check (npm-install-checks)", () => {
  test.each(PLATFORMS.flatMap((os) => [[os, 'x64'], [os, 'arm64']]))('accepts the packed package on %s-%s', (os, cpu) => {
    expect(pkgJson.os).toBeUndefined();
    expect(() => checkPlatform(pkgJson, false, { os, cpu })).not.toThrow();
  });

  test('would refuse it with the old "os": ["linux"] (EBADPLATFORM): the check above can fail', () => {
    expect(() => checkPlatform({ ...pkgJson, os: ['linux'] }, false, { os: 'darwin', cpu: 'arm64' })).toThrow(expect.objectContaining({ code: 'EBADPLATFORM' }));
  });
});

describe('the install script', () => {
  const script = () => join(dir, 'node_modules', 'tcp-vitals', 'scripts', 'install.js');

  test.each(PLATFORMS)('on %s: does nothing, needs no compiler, exits 0', (platform) => {
    const r = node(platform, [script()]);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(existsSync(join(dir, 'node_modules', 'tcp-vitals', 'build'))).toBe(false);
  });

  test('on Linux with no prebuild and no compiler it tries to build (so the gate above is what stops it)', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent' };
    delete env.PREBUILDS_ONLY;
    const r = spawnSync(process.execPath, [script()], { cwd: join(dir, 'node_modules', 'tcp-vitals'), env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/node-gyp/);
  });
});

describe.each(PLATFORMS)('on %s (platform faked)', (platform) => {
  test('require loads; register and protect() do nothing, with one warning line, exit 0', () => {
    const script = `
      const tv = require('tcp-vitals');
      let warnings = 0;
      process.on('warning', (w) => { if (w.code === 'TCP_VITALS_UNSUPPORTED_PLATFORM') warnings++; });
      const a = tv.protect({ timeout: 5000 });
      const b = tv.protect();
      const reg = require('tcp-vitals/register').registered;
      a.stop(); b.stop(); reg.stop();
      setImmediate(() => process.stdout.write(JSON.stringify({ warnings, timeout: a.timeout, stats: a.stats(), reg: typeof reg.stop, exports: Object.keys(tv).length })));`;
    const r = node(platform, ['-r', 'tcp-vitals/register', '-e', script]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    // One warning in all (Node emits it on the next tick, so this listener sees register's); the two protect() calls add none.
    expect(out).toMatchObject({ warnings: 1, timeout: 5000, reg: 'function' });
    expect(out.stats).toMatchObject({ protectedNow: 0, protectedTotal: 0, failed: 0 });
    expect(out.exports).toBeGreaterThan(40);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    const ours = lines.filter((l) => l.includes('tcp-vitals'));
    expect(ours).toEqual([expect.stringMatching(
      new RegExp(`^\\(node:\\d+\\) \\[TCP_VITALS_UNSUPPORTED_PLATFORM\\] TcpVitalsWarning: tcp-vitals: protect\\(\\) / tcp-vitals/register does nothing on ${platform} \\(Linux only\\)`),
    )]);
    // Besides it, only Node's own one-time "(Use `node --trace-warnings ...`)" hint.
    expect(lines.filter((l) => !l.includes('tcp-vitals')).every((l) => /--trace-warnings/.test(l))).toBe(true);
  });

  test('the warning is silenceable (--disable-warning=TCP_VITALS_UNSUPPORTED_PLATFORM, or --no-warnings)', () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    const flag = major > 21 || (major === 21 && minor >= 3) || (major === 20 && minor >= 11) ? '--disable-warning=TCP_VITALS_UNSUPPORTED_PLATFORM' : '--no-warnings';
    const r = node(platform, [flag, '-r', 'tcp-vitals/register', '-e', "require('tcp-vitals').protect()"]);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  test('every kernel function throws ERR_TCP_VITALS_UNSUPPORTED_PLATFORM; the model still computes', () => {
    const r = node(platform, [join(ROOT, 'test', 'fixtures', 'unsupported-platform-calls.js'), 'tcp-vitals']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    const { model, ...calls } = out;
    expect(Object.keys(calls).length).toBeGreaterThanOrEqual(22);
    for (const [name, result] of Object.entries(calls)) expect({ name, result }).toEqual({ name, result: 'ERR_TCP_VITALS_UNSUPPORTED_PLATFORM' });
    expect(model).toEqual({ budget: 924600, format: '15.6 min', state: 'ESTABLISHED' });
  });

  test('the error is Node-shaped: code, message naming the platform, instanceof Error', () => {
    const r = node(platform, ['-e', `
      try { require('tcp-vitals').tcpInfo(0); } catch (e) {
        process.stdout.write(JSON.stringify({ error: e instanceof Error, code: e.code, platform: e.platform, message: e.message }));
      }`]);
    expect(JSON.parse(r.stdout)).toEqual({
      error: true, code: 'ERR_TCP_VITALS_UNSUPPORTED_PLATFORM', platform,
      message: `tcp-vitals needs Linux (TCP_INFO, SO_COOKIE, TCP_USER_TIMEOUT); this is ${platform}: its kernel functions are unavailable here (the model functions still work)`,
    });
  });
});
