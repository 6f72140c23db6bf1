/**
 * The shipped binary: prebuilds/<platform>-<arch>/tcp-vitals.glibc.node is
 * present, built from the current native sources, and loads and works without
 * a compiler or a build/ directory. Also run as `npm run test:prebuild`
 * (PREBUILDS_ONLY=1), where this process itself must have loaded it. On musl
 * the musl prebuild is picked; where none matches, the error says what to do. The pure
 * layers (the model, `tcp-vitals doctor`) work with no binary at all.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodeGypBuild from 'node-gyp-build';
import { loadBinding, native } from '../lib/kernel/binding';
import { kernelAtLeast } from './helpers/loopback';

const root = join(__dirname, '..');
const target = `${process.platform}-${process.arch}`;
const prebuilt = join(root, 'prebuilds', target, 'tcp-vitals.glibc.node');

test('a prebuilt N-API binary for this platform is committed', () => {
  expect(existsSync(prebuilt)).toBe(true);
  // ELF shared object, stripped by prebuildify --strip (no .symtab).
  const bytes = readFileSync(prebuilt);
  expect(bytes.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  expect(bytes.includes(Buffer.from('.symtab'))).toBe(false);
});

test('the prebuilt binary is built from the current src-native/ and binding.gyp (else: npm run build:prebuild)', () => {
  const { sourceHash } = require('../scripts/prebuild.js') as { sourceHash(): string };
  const recorded = readFileSync(join(root, 'prebuilds', `${target}.source-sha256`), 'utf8').trim();
  expect({ stale: recorded !== sourceHash(), fix: 'npm run build:prebuild, then commit prebuilds/' }).toEqual({
    stale: false, fix: 'npm run build:prebuild, then commit prebuilds/',
  });
});

test('with PREBUILDS_ONLY=1 this process loaded the binary from prebuilds/', () => {
  // node-gyp-build.resolve(dir): the path load(dir) would require (not in lib/types' declaration).
  const resolved = (nodeGypBuild as unknown as { resolve(dir: string): string }).resolve(root);
  if (process.env.PREBUILDS_ONLY) {
    expect(resolved).toBe(prebuilt);
  } else {
    expect([prebuilt, join(root, 'build', 'Release', 'tcp_vitals.node')]).toContain(resolved);
  }
  // Whichever file it is, it is the one mapped into this process (once loaded: loading is lazy).
  loadBinding();
  const maps = readFileSync('/proc/self/maps', 'utf8');
  expect(maps).toContain(resolved);
  expect(typeof native.tcpInfo).toBe('function');
});

/** A temp dir with node_modules/tcp-vitals (package.json, dist/, prebuilds/ if asked) and node-gyp-build. */
function installedCopy(prefix: string, withPrebuilds: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const pkg = join(dir, 'node_modules', 'tcp-vitals');
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
  if (withPrebuilds) cpSync(join(root, 'prebuilds'), join(pkg, 'prebuilds'), { recursive: true });
  cpSync(join(root, 'node_modules', 'node-gyp-build'), join(dir, 'node_modules', 'node-gyp-build'), { recursive: true });
  return dir;
}

describe('an installed copy with no build/ and no sources (what a user gets from the prebuild)', () => {
  let dir: string;
  beforeAll(() => {
    dir = installedCopy('tv-installed-', true);
    writeFileSync(join(dir, 'check.js'), `
      const net = require('node:net');
      const fs = require('node:fs');
      const tv = require('tcp-vitals');
      const resolved = require('node-gyp-build').resolve(require('node:path').dirname(require.resolve('tcp-vitals/package.json')));
      const mapped = fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith('.node')).map((l) => l.split(/\\s+/).pop());
      const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
        const c = net.connect(server.address().port, '127.0.0.1', () => {
          c.write('hello', () => setTimeout(() => {
            const info = tv.tcpInfo(c);
            process.stdout.write(JSON.stringify({
              resolved, mapped: [...new Set(mapped)], state: info.state, length: info.length,
              bytesAcked: info.bytesAcked, cookie: typeof tv.socketCookie(c), queues: tv.queues(c),
            }));
            process.exit(0);
          }, 100));
        });
      });`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each([['PREBUILDS_ONLY=1', { PREBUILDS_ONLY: '1' }], ['default resolution', {}]])('%s: loads from prebuilds/ and reads a live socket', (_name, extraEnv) => {
    const env = { ...process.env, ...extraEnv, PATH: '/nonexistent' }; // no compiler reachable
    if (!('PREBUILDS_ONLY' in extraEnv)) delete env.PREBUILDS_ONLY;
    const out = JSON.parse(execFileSync(process.execPath, [join(dir, 'check.js')], { cwd: dir, env, encoding: 'utf8', timeout: 20_000 }));
    const expected = join(dir, 'node_modules', 'tcp-vitals', 'prebuilds', target, 'tcp-vitals.glibc.node');
    expect(out.resolved).toBe(expected);
    expect(out.mapped).toEqual([expected]);
    expect(out).toMatchObject({ state: 'ESTABLISHED', bytesAcked: 6, cookie: 'bigint', queues: { sendQueue: 0, unsent: 0 } });
    expect(out.length).toBeGreaterThanOrEqual(104);
    if (kernelAtLeast(6, 18)) expect(out.length).toBe(280);
  });

  test('on musl (LIBC=musl, as node-gyp-build detects Alpine) the musl prebuild is picked; it loads and reads a live socket', () => {
    // The musl build is libc-neutral (scripts/prebuild.js), so it also runs here; that it resolves
    // on musl is proven by scripts/check-prebuilds.js (test/prebuilds.test.ts).
    const env: NodeJS.ProcessEnv = { ...process.env, LIBC: 'musl', PATH: '/nonexistent' };
    delete env.PREBUILDS_ONLY;
    const out = JSON.parse(execFileSync(process.execPath, [join(dir, 'check.js')], { cwd: dir, env, encoding: 'utf8', timeout: 20_000 }));
    const expected = join(dir, 'node_modules', 'tcp-vitals', 'prebuilds', target, 'tcp-vitals.musl.node');
    expect(out.resolved).toBe(expected);
    expect(out.mapped).toEqual([expected]);
    expect(out).toMatchObject({ state: 'ESTABLISHED', bytesAcked: 6, cookie: 'bigint', queues: { sendQueue: 0, unsent: 0 } });
  });

  test('where no prebuild matches (an arch with none) the error says what to do, with node-gyp-build\'s as cause', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent' };
    delete env.PREBUILDS_ONLY;
    const script = `
      Object.defineProperty(process, 'arch', { value: 'riscv64' });
      const out = {};
      try { require('tcp-vitals'); } catch (err) { out.code = err.code; out.message = err.message; out.cause = String(err.cause && err.cause.message); }
      process.stdout.write(JSON.stringify(out));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: dir, env, encoding: 'utf8', timeout: 20_000 }));
    expect(out.code).toBe('ERR_TCP_VITALS_NO_ADDON');
    expect(out.message).toMatch(/no prebuild for linux-riscv64.*python3, make and g\+\+.*apk add build-base python3/);
    expect(out.cause).toMatch(/No native build was found for platform=linux arch=riscv64/);
  });
});

describe('with no binary at all (no build/, no prebuilds/): the pure layers still work', () => {
  let dir: string;
  beforeAll(() => {
    dir = installedCopy('tv-no-addon-', false);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: '/nonexistent' });

  test('tcp-vitals doctor runs and prints its report', () => {
    const bin = join(dir, 'node_modules', 'tcp-vitals', 'dist', 'cli', 'index.js');
    const report = JSON.parse(execFileSync(process.execPath, [bin, 'doctor', '--json'], { cwd: dir, env: env(), encoding: 'utf8', timeout: 20_000 }));
    expect(report.scenarios.length).toBe(3);
    const text = execFileSync(process.execPath, [bin, 'doctor'], { cwd: dir, env: env(), encoding: 'utf8', timeout: 20_000 });
    expect(text).toMatch(/how long does a dead peer go unnoticed/);
  });

  test('the model and the decoder import and compute; the kernel API fails with a clear error', () => {
    const script = `
      // dist/ paths are not exported: reach the modules by file path, as the CLI does internally.
      const dist = require('node:path').join(require.resolve('tcp-vitals'), '..');
      const model = require(dist + '/model');
      const { decodeTcpInfo } = require(dist + '/kernel/tcpinfo');
      const out = { budget: model.retriesBudgetMs(15, 200), format: model.formatDuration(938000), state: decodeTcpInfo(Buffer.from([10, 0, 0, 0, 0, 0, 0, 0]), 8).state };
      out.loaded = require(dist + '/kernel/binding').bindingLoaded();
      try { require('tcp-vitals'); } catch (err) { out.code = err.code; }
      process.stdout.write(JSON.stringify(out));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: dir, env: env(), encoding: 'utf8', timeout: 20_000 }));
    expect(out).toEqual({ budget: 924600, format: '15.6 min', state: 'LISTEN', loaded: false, code: 'ERR_TCP_VITALS_NO_ADDON' });
  });
});
