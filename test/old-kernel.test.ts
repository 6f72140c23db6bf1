/**
 * setOptions on a kernel without TCP_RTO_MAX_MS (every kernel before 6.15),
 * emulated by an LD_PRELOAD shim (fixtures/no-rto-max.c) in a child process:
 * the refusal names setsockopt and the option, and nothing is applied.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../lib/kernel/binding';

const dist = join(__dirname, '..', 'dist', 'kernel', 'options');

const CHILD = `
  const net = require('node:net');
  const { setOptions, getOptions } = require(${JSON.stringify(dist)});
  const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
    const c = net.connect(server.address().port, '127.0.0.1', () => {
      const before = getOptions(c);
      const attempts = [
        { congestion: 'reno', rtoMax: 2000 },
        { rtoMax: 2000, congestion: 'reno', noDelay: true, keepAliveIdle: 9000 },
      ].map((o) => {
        try { setOptions(c, o); return { options: o, error: null }; } catch (e) {
          return { options: o, error: { code: e.code, errno: e.errno, syscall: e.syscall, message: e.message } };
        }
      });
      const after = getOptions(c);
      console.log(JSON.stringify({ attempts, unchanged: JSON.stringify(before) === JSON.stringify(after), before, after }));
      c.destroy(); server.close();
    });
  });
`;

describe('a kernel without TCP_RTO_MAX_MS (LD_PRELOAD shim)', () => {
  let dir: string;
  let shim: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tv-oldkernel-'));
    shim = join(dir, 'no-rto-max.so');
    execFileSync('gcc', ['-shared', '-fPIC', '-O1', `-DRTO_MAX_OPT=${native.constants.TCP_RTO_MAX_MS}`,
      '-o', shim, join(__dirname, 'fixtures', 'no-rto-max.c'), '-ldl'], { stdio: 'pipe' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('setOptions({ congestion, rtoMax }) throws setsockopt ENOPROTOOPT (rtoMax) and applies nothing', () => {
    const out = spawnSync(process.execPath, ['-e', CHILD], {
      encoding: 'utf8', timeout: 30_000, env: { ...process.env, LD_PRELOAD: shim },
    });
    expect(out.stderr).toBe('');
    const r = JSON.parse(out.stdout);
    expect(r.before.rtoMax).toBeUndefined(); // the shim works: getOptions sees no rtoMax
    const refusal = { code: 'ENOPROTOOPT', errno: -92, syscall: 'setsockopt', message: 'setsockopt ENOPROTOOPT (rtoMax)' };
    for (const a of r.attempts) expect(a).toEqual({ options: a.options, error: refusal });
    expect({ unchanged: r.unchanged, after: r.after }).toEqual({ unchanged: true, after: r.before });
  });
});
