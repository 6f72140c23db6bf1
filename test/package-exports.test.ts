/**
 * The package's public surface is its `exports` map: a CommonJS consumer, an
 * ES module consumer (named imports) and a TypeScript consumer (node16
 * resolution, .mts and .cts) use an installed copy of the package; dist/ paths
 * are not reachable; the subpaths map to their dist files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const pkgJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tv-exports-'));
  const pkg = join(dir, 'node_modules', 'tcp-vitals');
  for (const f of ['package.json', 'dist', 'prebuilds']) cpSync(join(root, f), join(pkg, f), { recursive: true });
  cpSync(join(root, 'node_modules', 'node-gyp-build'), join(dir, 'node_modules', 'node-gyp-build'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (file: string): Record<string, unknown> =>
  JSON.parse(execFileSync(process.execPath, [join(dir, file)], { cwd: dir, encoding: 'utf8', timeout: 30_000 }));

/** Opens a loopback connection, reads tcpInfo through the consumer's import, prints JSON. */
const LIVE = `
  const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
    const c = net.connect(server.address().port, '127.0.0.1', () => {
      out.state = tcpInfo(c).state;
      c.destroy(); server.close();
      process.stdout.write(JSON.stringify(out));
    });
  });`;

test('CommonJS: require() gives every public name; dist/ paths are not exported', () => {
  writeFileSync(join(dir, 'consumer.cjs'), `
    const net = require('node:net');
    const tv = require('tcp-vitals');
    const { tcpInfo } = tv;
    const out = { names: Object.keys(tv).sort(), version: require('tcp-vitals/package.json').version };
    try { require('tcp-vitals/dist/index.js'); } catch (err) { out.deep = err.code; }
    out.instance = tv.isPeerGoneError(new tv.PeerGoneError('kernel', 0, 'x'));
    ${LIVE}`);
  const out = run('consumer.cjs');
  expect(out.names).toEqual(expect.arrayContaining(['failFast', 'watch', 'tcpInfo', 'PeerGoneError', 'isPeerGoneError', 'AckAbortError', 'isAckAbortError']));
  expect(out.version).toBe(pkgJson.version);
  expect(out.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  expect(out.instance).toBe(true);
  expect(out.state).toBe('ESTABLISHED');
});

test('ES modules: every CommonJS export is a named import; the default import is the CommonJS exports object', () => {
  writeFileSync(join(dir, 'consumer.mjs'), `
    import net from 'node:net';
    import { createRequire } from 'node:module';
    import * as ns from 'tcp-vitals';
    import { tcpInfo, failFast, PeerGoneError, isPeerGoneError } from 'tcp-vitals';
    import def from 'tcp-vitals';
    const cjs = createRequire(import.meta.url)('tcp-vitals');
    const named = Object.keys(ns).filter((k) => k !== 'default');
    const out = {
      missing: Object.keys(cjs).filter((k) => !named.includes(k)),
      sameObjects: failFast === cjs.failFast && PeerGoneError === cjs.PeerGoneError && def === cjs,
      guard: isPeerGoneError(new PeerGoneError('kernel', 0, 'x')),
    };
    try { await import('tcp-vitals/dist/index.js'); } catch (err) { out.deep = err.code; }
    ${LIVE}`);
  const out = run('consumer.mjs');
  expect(out.missing).toEqual([]); // cjs-module-lexer sees every export
  expect(out.sameObjects).toBe(true);
  expect(out.guard).toBe(true);
  expect(out.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  expect(out.state).toBe('ESTABLISHED');
});

test('TypeScript (module node16): named imports and the error guard type-check from .mts and .cts; a misspelt name does not', () => {
  const good = `
    import { failFast, isPeerGoneError, PeerGoneError, tcpInfo, type DeathReason } from 'tcp-vitals';
    import * as net from 'node:net';
    const s = net.connect(1, '127.0.0.1');
    failFast(s, { timeout: 10_000 });
    s.on('error', (err) => { if (isPeerGoneError(err)) { const r: DeathReason = err.reason; void r; } });
    const e: Error = new PeerGoneError('kernel', 0, 'x');
    void e; void tcpInfo;
  `;
  writeFileSync(join(dir, 'good.mts'), good);
  writeFileSync(join(dir, 'good.cts'), good);
  writeFileSync(join(dir, 'bad.mts'), `import { failFastt } from 'tcp-vitals'; void failFastt;\n`);
  const tsconfig = (files: string[]) => JSON.stringify({
    compilerOptions: {
      module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false,
      types: ['node'], typeRoots: [join(root, 'node_modules', '@types')],
    },
    files,
  });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  writeFileSync(join(dir, 'tsconfig.good.json'), tsconfig(['good.mts', 'good.cts']));
  writeFileSync(join(dir, 'tsconfig.bad.json'), tsconfig(['bad.mts']));
  const ok = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.good.json'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  expect(ok.stdout + ok.stderr).toBe('');
  expect(ok.status).toBe(0);
  const bad = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.bad.json'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  expect(bad.stdout).toMatch(/has no exported member named 'failFastt'/);
  expect(bad.status).not.toBe(0);
});

test.each([
  ['./model', 'dist/model/index.js'],
  ['./register', 'dist/register.js'],
  ['./prometheus', 'dist/integrations/prometheus.js'],
  ['./otel', 'dist/integrations/otel.js'],
])('subpath %s maps to %s', (subpath, file) => {
  expect(pkgJson.exports[subpath]).toEqual({ types: `./${file.replace(/\.js$/, '.d.ts')}`, default: `./${file}` });
  // Resolution goes through the map to that file (it exists once its module is built).
  const script = `try { process.stdout.write(require.resolve('tcp-vitals/${subpath.slice(2)}')); } catch (err) { process.stdout.write(err.code + ' ' + err.message.split('\\n')[0]); }`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
  const target = join(dir, 'node_modules', 'tcp-vitals', file);
  expect([target, `MODULE_NOT_FOUND Cannot find module '${target}'`]).toContain(out);
});
