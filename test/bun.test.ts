/**
 * Under Bun (bun@1 from npm; .ci/run installs it and sets TCP_VITALS_TEST_BUN):
 * the kernel-level API works on Bun's net.Socket (options round-trip,
 * tcp_info, queues, the cookie, failFast arms, Node-shaped errors), a real
 * vanished peer fails a failFast'd connection, and protect() / the preload do
 * nothing and say so in one TCP_VITALS_UNSUPPORTED_RUNTIME warning (Bun has
 * no libuv: the deathwatch's uv_poll_init aborted the process). Without bun
 * the file skips, except under CI=true where that is a failure.
 */
import { spawn, spawnSync, SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADDR_B, describeNetns, fixture, NetPair } from './helpers/netns';
import { REGISTER } from './helpers/preload';

const root = join(__dirname, '..');

/** TCP_VITALS_TEST_BUN, else the .ci/run install, else `bun` on PATH; null when none runs. */
function findBun(): string | null {
  const candidates = [process.env.TCP_VITALS_TEST_BUN, '/tmp/tcp-vitals-bun/node_modules/.bin/bun', 'bun'].filter(Boolean) as string[];
  for (const c of candidates) {
    if (c.includes('/') && !existsSync(c)) continue;
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  return null;
}
const bun = findBun();

function describeBun(name: string, fn: () => void): void {
  if (bun) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      test('bun is installed', () => {
        throw new Error('CI=true but bun is not installed (.ci/run: npm i --prefix /tmp/tcp-vitals-bun bun@1)');
      });
    });
  } else {
    console.warn(`SKIPPED "${name}": bun not found (npm i --prefix /tmp/tcp-vitals-bun bun@1, or set TCP_VITALS_TEST_BUN)`);
    describe.skip(name, fn);
  }
}

function run(args: string[]): SpawnSyncReturns<string> {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('TCP_VITALS_') || k === 'NODE_OPTIONS') delete clean[k];
  return spawnSync(bun as string, args, { cwd: root, env: clean, encoding: 'utf8', timeout: 60_000 });
}

const warningLines = (stderr: string) => stderr.split('\n').filter((l) => l.includes('TCP_VITALS_UNSUPPORTED_RUNTIME'));

describeBun('under Bun', () => {
  test('the kernel-level API on a net.Socket, and protect() doing nothing with one warning', () => {
    const r = run([fixture('bun-kernel.js')]);
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
    const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
    expect(report.runtime).toMatch(/^bun 1\./);
    expect(report.results.map((x: { check: string }) => x.check)).toHaveLength(11);
    expect(report.results.filter((x: { ok: boolean }) => !x.ok)).toEqual([]);
    expect(warningLines(r.stderr)).toHaveLength(1);
  });

  test('the preload (bun --preload / -r tcp-vitals/register): the application runs, one warning, no options set', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'tv-bun-'));
    try {
      const app = join(scratch, 'app.js');
      writeFileSync(app, `const net = require('node:net');
const { getOptions } = require(${JSON.stringify(root)});
const s = net.createServer((c) => c.end()).listen(0, '127.0.0.1', () => {
  const c = net.connect(s.address().port, '127.0.0.1', () => { console.log('userTimeout ' + getOptions(c).userTimeout); c.destroy(); s.close(); });
});`);
      for (const flag of ['--preload', '-r']) {
        const r = run([flag, REGISTER, app]);
        expect({ flag, status: r.status, out: r.stdout.trim() }).toEqual({ flag, status: 0, out: 'userTimeout 0' });
        expect(warningLines(r.stderr)).toHaveLength(1);
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  describeNetns('a vanished peer (network namespaces)', () => {
    const pairs: NetPair[] = [];
    afterAll(() => { for (const p of pairs) p.destroy(); });

    test('failFast fails the connection with ETIMEDOUT within timeout (+1 s) of the vanish', async () => {
      const pair = NetPair.create();
      pairs.push(pair);
      const port = 7400;
      const timeout = 3000;
      const peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, String(port)]);
      await peer.waitFor((m) => m.type === 'listening', 10_000);
      const child = spawn('ip', ['netns', 'exec', pair.a, bun as string, fixture('bun-failfast-client.js'), JSON.stringify({ host: ADDR_B, port, timeout })],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      const lines: Array<Record<string, any>> = [];
      let stderr = '';
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) { lines.push(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1); }
      });
      child.stderr.on('data', (d) => { stderr += d; });
      const waitFor = async (type: string, ms: number) => {
        const deadline = Date.now() + ms;
        for (;;) {
          const m = lines.find((l) => l.type === type);
          if (m) return m;
          if (Date.now() > deadline) throw new Error(`no ${type} from bun after ${ms} ms; got ${JSON.stringify(lines)}; stderr: ${stderr}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      try {
        const up = await waitFor('connected', 15_000);
        expect(up.userTimeout).toBeGreaterThan(0);
        expect(up.userTimeout).toBeLessThanOrEqual(timeout);
        await new Promise((r) => setTimeout(r, 500));
        pair.vanish();
        const at = performance.timeOrigin + performance.now();
        const err = await waitFor('error', timeout + 6000);
        expect(err.code).toBe('ETIMEDOUT');
        expect(err.at - at).toBeLessThanOrEqual(timeout + 1000);
      } finally {
        child.kill('SIGKILL');
        peer.kill();
      }
    }, 40_000);
  });
});
