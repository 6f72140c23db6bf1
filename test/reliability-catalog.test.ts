/**
 * Bad inputs across every public function, run in a child process: each must
 * throw (or reject with) its documented error, class and code (plus errno and
 * syscall for system errors), and the process must survive all of them, still
 * reading a live socket correctly afterwards, and exit 0.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const fixture = join(__dirname, 'fixtures', 'catalog-bad-inputs.js');
const lib = (name: string) => existsSync(join(__dirname, '..', 'lib', 'policy', `${name}.ts`)) || existsSync(join(__dirname, '..', 'lib', 'policy', name, 'index.ts'));

interface Result { name: string; ok: boolean; got: unknown; want: unknown }
interface Report {
  results: Result[];
  after: { state: string; length: number; sendQueue: number };
  modules: Record<string, boolean>;
}

describe('bad-input catalog (child process)', () => {
  let child: ReturnType<typeof spawnSync>;
  let report: Report;

  beforeAll(() => {
    child = spawnSync(process.execPath, [fixture], { encoding: 'utf8', timeout: 50_000 });
    const lines = String(child.stdout).trim().split('\n');
    report = JSON.parse(lines[lines.length - 1]) as Report;
  });

  test('the child exits 0 by itself, no signal', () => {
    expect({ status: child.status, signal: child.signal, stderr: String(child.stderr).slice(0, 2000) })
      .toEqual({ status: 0, signal: null, stderr: expect.any(String) });
  });

  test('at least 30 bad inputs, each with its documented error', () => {
    expect(report.results.length).toBeGreaterThanOrEqual(30);
    const wrong = report.results.filter((r) => !r.ok);
    expect(wrong).toEqual([]);
  });

  test('the catalog covers every module of the package that exists', () => {
    // A module in lib/ whose entries were silently left out would make this pass vacuously.
    expect(report.modules).toEqual({
      watch: lib('watch'), failFast: lib('failfast'), acked: lib('delivery'), gracefulClose: lib('close'), listenQueue: lib('server'),
    });
    const names = report.results.map((r) => r.name.replace(/\(.*/, ''));
    for (const fn of ['tcpInfo', 'queues', 'getsockopt', 'setsockopt', 'setOptions', 'getOptions', 'socketCookie']) {
      expect(names).toContain(fn);
    }
  });

  test('the process still reads a live connection correctly afterwards', () => {
    expect(report.after).toEqual({ state: 'ESTABLISHED', length: expect.any(Number), sendQueue: 0 });
    expect(report.after.length).toBeGreaterThanOrEqual(104);
  });
});
