/**
 * What the preload loads: one bundled file (scripts/bundle-register.js: ~55
 * modules loaded one by one cost about 5 MB of start-up RSS), not node:http2 (with crypto, tls, zlib and about
 * 50 builtin modules; a process that never speaks HTTP/2 paid ~2 MB for it),
 * nor node:tls or node:zlib. http2.connect is wrapped once the application
 * loads node:http2: a CommonJS require is seen as it returns (Module._load),
 * an ESM import at the next outbound connect (so from the second session on).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');
const REGISTER = join(root, 'dist', 'register.js');
const run = (args: string[]) => spawnSync(process.execPath, args, {
  encoding: 'utf8', timeout: 30_000, env: { ...process.env, TCP_VITALS_TIMEOUT: '10s', NODE_OPTIONS: '' },
});

test('--require tcp-vitals/register loads no http2, tls, zlib or crypto that the plain process does not', () => {
  const list = 'console.log(JSON.stringify(process.moduleLoadList.filter((m) => /^NativeModule (http2|tls|zlib|crypto)$/.test(m))))';
  const plain = run(['-e', list]); // node -e itself loads crypto on some versions
  const preload = run(['--require', REGISTER, '-e', list]);
  expect(preload.stderr).toBe('');
  expect(JSON.parse(preload.stdout.trim())).toEqual(JSON.parse(plain.stdout.trim()));
  expect(JSON.parse(preload.stdout.trim())).not.toContain('NativeModule http2');
});

test('the preload is one bundled file: start-up loads dist/register.js and node-gyp-build, no other module of ours', () => {
  const r = run(['--require', REGISTER, '-e',
    'console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.endsWith(".js") && !k.includes("node-gyp-build")).map((k) => require("node:path").basename(k))))']);
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout.trim())).toEqual(['register.js']);
});

test('a CommonJS require of node:http2 after the preload: the first session\'s requests are tracked', () => {
  const script = `
    const http2 = require('node:http2');
    const { hookSupport } = require(${JSON.stringify(join(root, 'dist', 'runtime', 'process-hooks.js'))});
    const server = http2.createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', () => {
      const s = http2.connect('http://127.0.0.1:' + server.address().port);
      const req = s.request({ ':path': '/' });
      req.resume();
      req.on('end', () => { console.log(JSON.stringify({ first: hookSupport().http2Request })); s.close(); server.close(); });
      req.end();
    });`;
  const r = run(['--require', REGISTER, '-e', script]);
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout.trim())).toEqual({ first: true });
});

test('an ESM import of node:http2 after the preload: tracked from the second session', () => {
  const r = run(['--require', REGISTER, join(__dirname, 'fixtures', 'preload-http2.mjs'), root]);
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout.trim())).toEqual({ first: false, second: true });
});
