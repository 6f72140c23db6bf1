/**
 * A million random calls straight into the addon (random fds including closed,
 * reused and non-socket ones; random levels, names, sizes, values; wrong
 * types; inspectFds through this process's own pidfd, deathwatchAdd/Apply on
 * its own sockets, readFilesInNetns in its own namespace), in a child process that must exit 0 with no check failed. The seed
 * is fixed and printed (FUZZ_SEED / FUZZ_CALLS override it for a local run).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const fixture = join(__dirname, 'fixtures', 'fuzz-native.js');
const SEED = process.env.FUZZ_SEED ?? String(0x5eed7c9a);
const CALLS = Number(process.env.FUZZ_CALLS ?? 1_000_000);

interface FuzzReport {
  seed: number; calls: number; typed: number; wrongType: number; batchRecords: number;
  staleChecks: number; liveChecks: number; errnos: Record<string, number>; failures: unknown[]; elapsedMs: number;
  inspectRecords: number; inspectLive: number; deathwatchAdds: number; deathwatchCookies: number; deathwatchApplies: number; deathwatchWatches: number;
  netnsFiles: number; pidfdOpens: number; deathEvents: number; pidfd: boolean; inspectOffsets: number;
}

function run(): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fixture], {
      env: { ...process.env, FUZZ_SEED: SEED, FUZZ_CALLS: String(CALLS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

describe('native fuzz (child process)', () => {
  test(`${CALLS} random calls, seed ${SEED}: no crash, every check holds`, async () => {
    const r = await run();
    // The seed goes to the log, so a failure can be replayed exactly.
    console.log(r.stderr.trim().split('\n')[0]);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as FuzzReport;
    expect(report.failures).toEqual([]);
    expect(report.calls).toBeGreaterThanOrEqual(CALLS);
    expect(report.wrongType).toBeGreaterThan(CALLS / 50);
    // The interesting cases really happened: reused/closed sockets checked against their
    // old cookies, live ones read, and the kernel said no in many different ways.
    expect(report.staleChecks).toBeGreaterThan(CALLS / 100);
    expect(report.liveChecks).toBeGreaterThan(CALLS / 100);
    for (const errno of [9, 22, 88, 92, 95, 116]) expect(report.errnos[errno]).toBeGreaterThan(0);
    // The pidfd, netns and deathwatch functions were reached: live TCP fds inspected through our
    // own pidfd, sockets registered (a cookie back) and a real reset reported through the deathwatch.
    expect(report.pidfd).toBe(true);
    expect(report.inspectOffsets).toBe(8); // the same record at every buffer offset 0..7
    expect(report.inspectLive).toBeGreaterThan(CALLS / 1000);
    expect(report.inspectRecords).toBeGreaterThan(report.inspectLive);
    expect(report.deathwatchCookies).toBeGreaterThan(0);
    expect(report.deathwatchAdds).toBeGreaterThan(report.deathwatchCookies);
    expect(report.deathwatchApplies).toBeGreaterThan(0);
    expect(report.deathwatchWatches).toBeGreaterThan(0);
    expect(report.deathEvents).toBeGreaterThan(0);
    expect(report.netnsFiles).toBeGreaterThan(0);
    expect(report.pidfdOpens).toBeGreaterThan(0);
  }, 180_000);
});
