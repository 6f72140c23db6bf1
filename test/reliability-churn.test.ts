/**
 * Churn: 50,000 loopback connections opened and closed while watched (in a
 * child process, see fixtures/churn-watch.js). No watch() event for a closed
 * socket; no reused fd ever read as its old socket (checked by cookie, and
 * independently by each connection's own byte count in tcp_info); heap and
 * open fds back to baseline afterwards.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const fixture = join(__dirname, 'fixtures', 'churn-watch.js');
const TOTAL = Number(process.env.CHURN_CONNECTIONS ?? 50_000);

interface ChurnReport {
  total: number;
  churnMs: number;
  baseline: { heapUsed: number; fds: number; schedulerSize: number };
  after: { heapUsed: number; fds: number; schedulerSize: number };
  stats: Record<string, number> & { rawErrnos: Record<string, number> };
  violations: unknown[];
}

function run(): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', fixture], {
      env: { ...process.env, CHURN_CONNECTIONS: String(TOTAL) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

describe(`churn: ${TOTAL} watched connections opened and closed`, () => {
  let report: ChurnReport;
  let exit: { code: number | null; signal: string | null; stderr: string };

  beforeAll(async () => {
    const r = await run();
    exit = { code: r.code, signal: r.signal, stderr: r.stderr.slice(0, 2000) };
    report = JSON.parse(r.stdout.trim().split('\n').pop() || 'null') as ChurnReport;
  }, 120_000);

  test('the child completes and exits 0', () => {
    expect(exit).toEqual({ code: 0, signal: null, stderr: '' });
    expect(report.stats.opened).toBeGreaterThanOrEqual(TOTAL);
    expect(report.stats.closed).toBe(report.stats.opened);
    expect(report.stats.connectErrors).toBe(0);
  });

  test('fd numbers were reused while old registrations were still being read', () => {
    // Without reuse under a live registration, the cookie checks below would prove nothing.
    expect(report.stats.fdReuses).toBeGreaterThan(TOTAL / 2);
    expect(report.stats.rawErrnos['116'] ?? 0).toBeGreaterThan(TOTAL / 10); // ESTALE: cookie mismatch caught
  });

  test('no reused fd is ever read as its old socket', () => {
    expect(report.violations).toEqual([]);
    expect(report.stats.rawAfterCloseRead).toBe(0);
    expect(report.stats.rawForeign).toBe(0);
    expect(report.stats.foreignSamples).toBe(0);
    // Every closed socket's raw registration ended on a failed read (ESTALE or EBADF), not a success.
    expect(report.stats.rawAfterCloseRejected).toBe(report.stats.opened);
    expect(report.stats.rawOk).toBeGreaterThan(TOTAL / 4);
  });

  test('no watch() event for a closed socket', () => {
    expect(report.stats.sampleEvents).toBeGreaterThan(TOTAL / 50); // events did flow while open
    expect(report.stats.eventsAfterClose).toBe(0);
  });

  test('open fds, scheduler entries and heap back to baseline', () => {
    expect(report.after.fds).toBe(report.baseline.fds);
    expect(report.after.schedulerSize).toBe(0);
    // 1 MiB over 50,000 connections: a leak of even ~20 bytes per connection would exceed it.
    expect(report.after.heapUsed - report.baseline.heapUsed).toBeLessThan(1024 * 1024);
  });
});
