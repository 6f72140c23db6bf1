/**
 * The shipped binary: prebuilds/<platform>-<arch>/tcp-vitals.node is present,
 * built from the current native sources, and loads and works without a
 * compiler or a build/ directory. Also run as `npm run test:prebuild`
 * (PREBUILDS_ONLY=1), where this process itself must have loaded it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import nodeGypBuild = require('node-gyp-build');
import { native } from '../lib/kernel/binding';
import { kernelAtLeast } from './helpers/loopback';

const root = join(__dirname, '..');
const target = `${process.platform}-${process.arch}`;
const prebuilt = join(root, 'prebuilds', target, 'tcp-vitals.node');

test('a prebuilt N-API binary for this platform is committed', () => {
  expect(existsSync(prebuilt)).toBe(true);
  // ELF shared object, stripped by prebuildify --strip (no .symtab).
  const bytes = readFileSync(prebuilt);
  expect(bytes.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  expect(bytes.includes(Buffer.from('.symtab'))).toBe(false);
});

test('the prebuilt binary is built from the current src-native/ and binding.gyp (else: npm run prebuild)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { sourceHash } = require('../scripts/prebuild.js') as { sourceHash(): string };
  const recorded = readFileSync(join(root, 'prebuilds', `${target}.source-sha256`), 'utf8').trim();
  expect({ stale: recorded !== sourceHash(), fix: 'npm run prebuild, then commit prebuilds/' }).toEqual({
    stale: false, fix: 'npm run prebuild, then commit prebuilds/',
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
  // Whichever file it is, it is the one mapped into this process.
  const maps = readFileSync('/proc/self/maps', 'utf8');
  expect(maps).toContain(resolved);
  expect(typeof native.tcpInfo).toBe('function');
});

describe('an installed copy with no build/ and no sources (what a user gets from the prebuild)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tv-installed-'));
    const pkg = join(dir, 'node_modules', 'tcp-vitals');
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(root, 'prebuilds'), join(pkg, 'prebuilds'), { recursive: true });
    cpSync(join(root, 'node_modules', 'node-gyp-build'), join(dir, 'node_modules', 'node-gyp-build'), { recursive: true });
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
    const expected = join(dir, 'node_modules', 'tcp-vitals', 'prebuilds', target, 'tcp-vitals.node');
    expect(out.resolved).toBe(expected);
    expect(out.mapped).toEqual([expected]);
    expect(out).toMatchObject({ state: 'ESTABLISHED', bytesAcked: 6, cookie: 'bigint', queues: { sendQueue: 0, unsent: 0 } });
    expect(out.length).toBeGreaterThanOrEqual(104);
    if (kernelAtLeast(6, 18)) expect(out.length).toBe(280);
  });
});
