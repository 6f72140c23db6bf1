/**
 * The deadline model as pure functions: the numbers of linux-tcp.md §3/§9
 * (each of which was measured on the real kernel; test/deadlines.kernel.test.ts
 * re-measures the retransmission path), the SYN table, keepalive with and
 * without a user timeout, the explanations' traps, and sysctl parsing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computeDeadlines, connectDeath, deathAfterFirstRetransmit, DeadlineSettings, explainDeadlines, explainSettings,
  formatDuration, keepAliveDeath, predictGiveUp, retriesBudgetMs, timerLatenessMs,
} from '../lib/model'; // the tcp-vitals/model entry point
import { kernelSettings, readKernelSettings } from '../lib/kernel/sysctl';

const DEFAULTS: DeadlineSettings = {
  retries2: 15, synRetries: 6, synLinearTimeouts: 4, keepAliveTimeMs: 7_200_000, keepAliveIntervalMs: 75_000,
  keepAliveProbes: 9, rtoMinMs: 200, rtoMaxMs: 120_000, timerHz: 250,
};

describe('retriesBudgetMs (tcp_model_timeout)', () => {
  test.each([
    [15, 200, 120_000, 924_600],
    [4, 200, 120_000, 6_200],
    [3, 200, 120_000, 3_000],
    [9, 200, 120_000, 204_600], // thresh = ilog2(600) = 9: last doubling step
    [10, 200, 120_000, 324_600], // first capped step
    [0, 200, 120_000, 200],
    [15, 200, 1_000, 14_400], // TCP_RTO_MAX_MS 1000: 7·0.2 + 13·1 s
    [6, 1_000, 120_000, 127_000], // SYN budget for tcp_syn_retries 6
  ])('budget(%i, base %i, max %i) = %i ms', (n, base, max, expected) => {
    expect(retriesBudgetMs(n, base, max)).toBe(expected);
  });

  test('bad input: Node-shaped errors', () => {
    expect(() => retriesBudgetMs(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => retriesBudgetMs(1.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => retriesBudgetMs('15' as unknown as number)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => retriesBudgetMs(15, 200, 100)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

describe('retransmission path, after the first retransmission', () => {
  test('linux-tcp.md §9 windows (no timer frequency known: slack up to 1/8)', () => {
    const r4 = deathAfterFirstRetransmit({ baseRtoMs: 204, retries2: 4 });
    expect([r4.earliestMs, r4.latestMs]).toEqual([6200, 14229]);
    expect(r4.ambiguous).toBe(true); // nominal expiry 6120 sits just under the 6200 budget
    const r15 = deathAfterFirstRetransmit({ baseRtoMs: 204, retries2: 15 });
    // §9 gives [924600, 1044549]; the earliest is tighter here: the fatal expiry cannot fire before its nominal 928488.
    expect(r15.latestMs).toBe(1044549);
    expect(r15.earliestMs).toBe(928488);
    expect(r15.earliestMs).toBeGreaterThanOrEqual(924600);
    expect(r15.ambiguous).toBe(false);
    const rmax = deathAfterFirstRetransmit({ baseRtoMs: 204, retries2: 15, rtoMaxMs: 1000 });
    expect([rmax.earliestMs, rmax.latestMs]).toEqual([14400, 17127]);
  });

  test('with HZ known the expected values match the measured ones of §3.2/§8.4', () => {
    // measured: 6368 ms (retries2 4), 938006 ms (default), 14568 ms (rto max 1 s), all after the first retransmission
    const cases: Array<[number, number | undefined, number]> = [[4, undefined, 6368], [15, undefined, 938006], [15, 1000, 14568]];
    for (const [retries2, rtoMaxMs, measured] of cases) {
      const w = deathAfterFirstRetransmit({ baseRtoMs: 204, retries2, rtoMaxMs, timerHz: 250 });
      expect(measured).toBeGreaterThanOrEqual(w.earliestMs);
      expect(measured).toBeLessThanOrEqual(w.latestMs);
      expect(Math.abs(w.ms - measured) / measured).toBeLessThan(0.02);
    }
  });

  test('TCP_USER_TIMEOUT replaces the budget and clamps the timer: death at U (plus one bucket at most)', () => {
    const w = deathAfterFirstRetransmit({ baseRtoMs: 204, retries2: 15, userTimeoutMs: 2000, timerHz: 250 });
    expect(w.earliestMs).toBe(2000);
    expect(w.latestMs).toBeLessThan(2000 + 300);
    expect(w.ambiguous).toBe(false);
  });
});

describe('timer-wheel lateness (HZ 250)', () => {
  test.each([
    [204, 2 * 4], // 51 jiffies: level 0, one jiffy
    [408, 9 * 4], // 102 jiffies: level 1, 8-jiffy buckets
    [3264, 65 * 4], // 816 jiffies: level 2, 64-jiffy buckets
    [120_000, 513 * 4], // 30000 jiffies: level 3, 512-jiffy buckets (2.048 s)
  ])('a %i ms timer fires at most %i ms late', (interval, max) => {
    expect(timerLatenessMs(interval, 250, 'max')).toBe(max);
    expect(timerLatenessMs(interval, 250, 'typical')).toBeLessThan(max);
  });
});

describe('connect path (SYN table, §3.4)', () => {
  test.each([
    [1, 3000, 3000], [2, 7000, 7000], [3, 19000, 15000], [4, 35000, 31000], [5, 67000, 63000], [6, 131000, 127000],
  ])('syncnt %i: 6.5+ gives up at %i ms, before 6.5 at %i ms (nominal)', (n, linear, old) => {
    expect(connectDeath({ synRetries: n, linearTimeouts: 4 }).earliestMs).toBe(linear);
    expect(connectDeath({ synRetries: n, linearTimeouts: 0 }).earliestMs).toBe(old);
  });

  test('measured connect times fall inside the windows (HZ 250)', () => {
    for (const [n, measured] of [[1, 3070], [2, 7110], [3, 19480], [6, 133600]]) {
      const w = connectDeath({ synRetries: n, linearTimeouts: 4, timerHz: 250 });
      expect(measured).toBeGreaterThanOrEqual(w.earliestMs);
      expect(measured).toBeLessThanOrEqual(w.latestMs);
    }
    const u = connectDeath({ synRetries: 6, linearTimeouts: 4, userTimeoutMs: 2500, timerHz: 250 });
    expect(2520).toBeGreaterThanOrEqual(u.earliestMs); // measured 2.52 s
    expect(2520).toBeLessThanOrEqual(u.latestMs);
  });
});

describe('keepalive path (§3.3)', () => {
  test('idle + interval × count without a user timeout', () => {
    const w = keepAliveDeath({ idleMs: 2000, intervalMs: 1000, count: 3, timerHz: 250 });
    expect(w.earliestMs).toBe(5000);
    expect(5040).toBeLessThanOrEqual(w.latestMs); // measured 5.04 s
  });

  test('with a user timeout the count is ignored: first tick past U with a probe out', () => {
    expect(keepAliveDeath({ idleMs: 2000, intervalMs: 1000, count: 9, userTimeoutMs: 2500 }).earliestMs).toBe(3000); // measured 2.99 s
    // U longer than the keepalive budget: KEEPCNT 2 would give 4 s, U makes it 6 s.
    expect(keepAliveDeath({ idleMs: 2000, intervalMs: 1000, count: 2, userTimeoutMs: 6000 }).earliestMs).toBe(6000);
    // U shorter than idle: cannot act before idle + one interval.
    expect(keepAliveDeath({ idleMs: 5000, intervalMs: 1000, count: 9, userTimeoutMs: 1000 }).earliestMs).toBe(6000);
  });
});

describe('computeDeadlines', () => {
  test('kernel defaults: ~15.5 min while sending, never while idle or in a zero window, ~2.2 min connecting', () => {
    const d = computeDeadlines({ settings: DEFAULTS, info: { rto: 204_000, backoff: 0 } });
    expect(d.whileSending).toBeGreaterThan(924_600);
    expect(d.whileSending).toBeLessThan(1_000_000);
    expect(d.whileIdle).toBe(Infinity);
    expect(d.whileZeroWindow).toBe(Infinity);
    expect(d.windows.whileConnecting.earliestMs).toBe(131_000);
    expect(d.inputs.retries2BudgetMs).toBe(924_600);
    expect(d.inputs.baseRtoMs).toBe(204);
  });

  test('base RTO comes from tcp_info without the backoff, never below the minimum', () => {
    expect(computeDeadlines({ settings: DEFAULTS, info: { rto: 3_264_000, backoff: 4 } }).inputs.baseRtoMs).toBe(204);
    expect(computeDeadlines({ settings: DEFAULTS, info: { rto: 1000, backoff: 0 } }).inputs.baseRtoMs).toBe(200);
    expect(computeDeadlines({ settings: DEFAULTS }).inputs.baseRtoMs).toBe(200);
  });

  test('user timeout 10 s with failFast-style keepalive: every path about 10 s', () => {
    const d = computeDeadlines({
      settings: DEFAULTS,
      options: { userTimeout: 10_000, keepAlive: true, keepAliveIdle: 5000, keepAliveInterval: 1000, keepAliveCount: 5 },
      info: { rto: 204_000, backoff: 0 },
    });
    for (const ms of [d.whileSending, d.whileIdle, d.whileZeroWindow, d.whileConnecting]) {
      expect(ms).toBeGreaterThanOrEqual(10_000);
      expect(ms).toBeLessThan(11_000);
    }
    expect(d.windows.whileIdle.earliestMs).toBe(10_000);
    expect(d.windows.whileZeroWindow.earliestMs).toBe(10_204); // first persist probe one RTO after the window closed
  });

  test('rtoMax from the socket wins over the sysctl', () => {
    const d = computeDeadlines({ settings: DEFAULTS, options: { rtoMax: 1000 } });
    expect(d.inputs.retries2BudgetMs).toBe(14_400);
    expect(d.inputs.rtoMaxMs).toBe(1000);
  });

  test('only own properties are inputs: an inherited or polluted key is never read', () => {
    const plain = computeDeadlines({ settings: DEFAULTS, options: {} });
    expect(computeDeadlines({ settings: DEFAULTS, options: Object.create({ keepAlive: true, userTimeout: 5000 }) })).toEqual(plain);
    const proto = Object.prototype as Record<string, unknown>;
    proto.keepAlive = true;
    proto.userTimeout = 5000;
    try {
      expect(computeDeadlines({ settings: DEFAULTS, options: {} })).toEqual(plain);
      expect(predictGiveUp({ rto: 400_000, backoff: 1, retransmits: 1 }, DEFAULTS, {})!.decidedBy).toBe('retries2');
    } finally {
      delete proto.keepAlive;
      delete proto.userTimeout;
    }
  });

  test('bad input', () => {
    expect(() => computeDeadlines(null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => computeDeadlines({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('sysctls the kernel accepts at the edges', () => {
  test('tcp_rto_min_us below 1 ms (500 µs): works; the RTO floor is one jiffy, as usecs_to_jiffies rounds up', () => {
    const d = computeDeadlines({ settings: { ...DEFAULTS, rtoMinMs: 0.5 } });
    expect(d.inputs.baseRtoMs).toBe(4); // HZ 250
    expect(Number.isFinite(d.whileSending)).toBe(true);
    const noHz = computeDeadlines({ settings: { ...DEFAULTS, rtoMinMs: 0.5, timerHz: undefined } });
    expect(noHz.inputs.baseRtoMs).toBe(0.5);
    expect(noHz.windows.afterFirstRetransmit.ms).toBeGreaterThanOrEqual(retriesBudgetMs(15));
    expect(deathAfterFirstRetransmit({ baseRtoMs: 0.5, retries2: 4 }).ms).toBeGreaterThan(0);
  });

  test('tcp_keepalive_probes = 0: death at the first keepalive tick (idle), no probe sent', () => {
    const d = computeDeadlines({
      settings: { ...DEFAULTS, keepAliveProbes: 0 },
      options: { keepAlive: true, keepAliveIdle: 2000, keepAliveInterval: 1000, keepAliveCount: 0 },
    });
    expect(d.inputs.keepAliveCount).toBe(0);
    expect(d.windows.whileIdle.earliestMs).toBe(2000);
    expect(d.whileIdle).toBeLessThan(2100);
    expect(explainDeadlines(d).join('\n')).toMatch(/tcp_keepalive_probes = 0.*live peer/);
    // With a user timeout the count is ignored, as before.
    expect(keepAliveDeath({ idleMs: 2000, intervalMs: 1000, count: 0, userTimeoutMs: 5000 }).earliestMs).toBe(5000);
  });

  test('tcp_keepalive_time above 2147483 s (3,000,000 s): no throw', () => {
    const d = computeDeadlines({
      settings: { ...DEFAULTS, keepAliveTimeMs: 3_000_000_000 },
      options: { keepAlive: true, keepAliveIdle: 3_000_000_000, keepAliveInterval: 75_000, keepAliveCount: 9 },
    });
    expect(d.windows.whileIdle.earliestMs).toBe(3_000_000_000 + 9 * 75_000);
  });

  test('tcp_rto_min above tcp_rto_max: every RTO is capped at rto_max (measured: tcpi_rto 1 s with rto_min 5 s, rto_max 1 s)', () => {
    const s = { ...DEFAULTS, rtoMinMs: 5000, rtoMaxMs: 1000 };
    const d = computeDeadlines({ settings: s, options: { noDelay: true } });
    expect(d.inputs.baseRtoMs).toBe(1000);
    expect(d.whileSending).toBeLessThan(20_000);
    const withInfo = computeDeadlines({ settings: s, info: { rto: 1_000_000, backoff: 0 } });
    expect(withInfo.inputs.baseRtoMs).toBe(1000);
    const p = predictGiveUp({ rto: 1_000_000, backoff: 3, retransmits: 3, lastDataSent: 100 }, s)!;
    expect(p.ms).toBeLessThan(15_000);
    // The persist timer is capped at rto_max too: zero-window death U after one probe0 of at most rto_max.
    const zw = computeDeadlines({ settings: s, options: { userTimeout: 10_000 } });
    expect(zw.windows.whileZeroWindow.earliestMs).toBe(11_000);
  });
});

describe('predictGiveUp', () => {
  test('null when not in an RTO episode', () => {
    expect(predictGiveUp({ rto: 204_000, backoff: 0, retransmits: 0 }, DEFAULTS)).toBeNull();
  });

  test('mid-episode, from rto/backoff/retransmits/lastDataSent (retries2 4, as sampled from the kernel)', () => {
    const s = { ...DEFAULTS, retries2: 4 };
    // Sampled 2.91 s into the episode, just after the 4th expiry; the kernel died 3.45 s later.
    const p = predictGiveUp({ rto: 3_264_000, backoff: 4, retransmits: 4, lastDataSent: 0 }, s)!;
    expect(p.elapsedMs).toBeGreaterThan(2856);
    expect(p.elapsedMs).toBeLessThan(3000);
    expect(p.budgetMs).toBe(6200);
    expect(p.decidedBy).toBe('retries2');
    expect(3450).toBeGreaterThanOrEqual(p.earliestMs);
    expect(3450).toBeLessThanOrEqual(p.latestMs);
    // The caller's own clock (e.g. from tcpi_total_rto_time) is used when given.
    expect(predictGiveUp({ rto: 3_264_000, backoff: 4, retransmits: 4, lastDataSent: 0 }, s, {}, 2936)!.elapsedMs).toBe(2936);
  });

  test('with a user timeout: the rest of U', () => {
    const p = predictGiveUp({ rto: 816_000, backoff: 2, retransmits: 2, lastDataSent: 100 }, DEFAULTS, { userTimeout: 2000 })!;
    expect(p.decidedBy).toBe('userTimeout');
    // The kernel's clock is 408 ms (one doubled RTO) + 100 ms since the last retransmission, plus timer lateness.
    expect(p.elapsedMs).toBeGreaterThanOrEqual(508);
    expect(p.earliestMs).toBeLessThanOrEqual(2000 - p.elapsedMs);
    expect(p.latestMs).toBeGreaterThanOrEqual(2000 - p.elapsedMs);
    expect(p.latestMs).toBeLessThanOrEqual(2000 - 508 + 100);
  });
});

describe('explanations', () => {
  const text = (lines: string[]) => lines.join('\n');

  test('kernel defaults name the 15-minute trap and the missing keepalive', () => {
    const t = text(explainDeadlines(computeDeadlines({ settings: DEFAULTS })));
    expect(t).toMatch(/15\.5 minutes/);
    expect(t).toMatch(/keepalive is off/);
  });

  test('keepalive without a delay: the 2 h trap', () => {
    const t = text(explainDeadlines(computeDeadlines({ settings: DEFAULTS, options: { keepAlive: true } })));
    expect(t).toMatch(/first probe waits 2\.0 h/);
  });

  test("Node's setKeepAlive interval 1 s / count 10 is recognised", () => {
    const t = text(explainDeadlines(computeDeadlines({
      settings: DEFAULTS, options: { keepAlive: true, keepAliveIdle: 1000, keepAliveInterval: 1000, keepAliveCount: 10 },
    })));
    expect(t).toMatch(/setKeepAlive/);
    expect(t).toMatch(/delay \+ 10 s/);
  });

  test('user timeout longer than the keepalive budget, and shorter than idle', () => {
    const longer = text(explainDeadlines(computeDeadlines({
      settings: DEFAULTS, options: { keepAlive: true, keepAliveIdle: 2000, keepAliveInterval: 1000, keepAliveCount: 2, userTimeout: 30_000 },
    })));
    expect(longer).toMatch(/longer than the keepalive budget 4\.00 s/);
    expect(longer).toMatch(/ignores TCP_KEEPCNT/);
    const shorter = text(explainDeadlines(computeDeadlines({
      settings: DEFAULTS, options: { keepAlive: true, keepAliveIdle: 60_000, keepAliveInterval: 1000, keepAliveCount: 2, userTimeout: 5000 },
    })));
    expect(shorter).toMatch(/shorter than the keepalive idle time/);
  });

  test('explainSettings: kernel defaults, Node setKeepAlive, failFast 10 s, and the caller\'s options', () => {
    const s = explainSettings(DEFAULTS, { userTimeout: 5000 });
    expect(s.map((x) => x.name)).toEqual([
      'kernel defaults', 'Node socket.setKeepAlive(true, 1000)', 'failFast(socket, { timeout: 10000 })', 'your options',
    ]);
    expect(s[0].deadlines.whileIdle).toBe(Infinity);
    expect(s[1].deadlines.windows.whileIdle.earliestMs).toBe(11_000);
    expect(s[2].deadlines.whileIdle).toBeLessThan(11_000);
    // failFast's own options (lib/failfast.ts): sending dies one RTO + its user timeout after the lost write, about 10 s.
    expect(s[2].deadlines.windows.whileSending.earliestMs).toBe(200 + s[2].options.userTimeout!);
    expect(s[2].deadlines.whileSending).toBeLessThan(11_000);
    for (const x of s) expect(x.lines.length).toBeGreaterThan(2);
  });

  test('formatDuration', () => {
    expect([formatDuration(850), formatDuration(6400), formatDuration(938_000), formatDuration(7_200_000), formatDuration(Infinity)])
      .toEqual(['850 ms', '6.40 s', '15.6 min', '2.0 h', 'never']);
  });
});

describe('kernelSettings', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tv-sysctl-'));
    const values: Record<string, string> = {
      tcp_retries1: '3', tcp_retries2: '8', tcp_syn_retries: '5', tcp_keepalive_time: '600', tcp_keepalive_intvl: '30',
      tcp_keepalive_probes: '4', tcp_orphan_retries: '0', tcp_fin_timeout: '60',
    };
    for (const [k, v] of Object.entries(values)) writeFileSync(join(dir, k), `${v}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('an older kernel: knobs it lacks take the built-in values and are listed', () => {
    const s = readKernelSettings(dir);
    expect(s.retries2).toBe(8);
    expect(s.keepAliveTimeMs).toBe(600_000);
    expect(s.keepAliveIntervalMs).toBe(30_000);
    expect(s.synLinearTimeouts).toBe(0);
    expect(s.rtoMinMs).toBe(200);
    expect(s.rtoMaxMs).toBe(120_000);
    expect([...s.absent].sort()).toEqual(['tcp_rto_max_ms', 'tcp_rto_min_us', 'tcp_syn_linear_timeouts']);
  });

  test('garbage or a missing required knob is a system error, not a guess', () => {
    writeFileSync(join(dir, 'tcp_rto_min_us'), 'abc\n');
    expect(() => readKernelSettings(dir)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    rmSync(join(dir, 'tcp_rto_min_us'));
    rmSync(join(dir, 'tcp_retries2'));
    expect(() => readKernelSettings(dir)).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'open' }));
  });

  test('this namespace (real /proc)', () => {
    const s = kernelSettings({ maxAgeMs: 0 });
    expect(Number.isInteger(s.retries2)).toBe(true);
    expect(s.rtoMaxMs).toBeGreaterThanOrEqual(1000);
    expect(kernelSettings()).toBe(kernelSettings()); // cached briefly
    expect(() => kernelSettings({ maxAgeMs: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});
