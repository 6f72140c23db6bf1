/**
 * watch()'s pure step and failFast's, fed synthetic readings: no root, no
 * kernel. The real-kernel tests (watch.test.ts, failfast-*.test.ts) confirm
 * the kernel facts these sequences stand for.
 */
import { deathReason, reasonFromSample, timeoutPath, troubleOf } from '../lib/model/reason';
import { newWatchState, WATCH_ACTION as A, WATCH_STATE, watchDeathReason, watchStep, WatchReading } from '../lib/model/watch-step';

const ESTABLISHED = 1, SYN_SENT = 2, CLOSE = 7;
const cfg = { stallAfter: 1000, sampleEvery: 0, pollEvery: 250 };

function reading(r: Partial<WatchReading> = {}): WatchReading {
  return { state: ESTABLISHED, sendQueue: 0, unsent: 0, retransmits: 0, probes: 0, unacked: 0, lastAckRecv: 0, totalRtoTime: 0, sndWnd: 65535, ...r };
}

/** Names of the action bits. */
function names(bits: number): string[] {
  return Object.entries(A).filter(([, b]) => bits & b).map(([n]) => n);
}

describe('watchStep', () => {
  test('healthy readings: no action', () => {
    const st = newWatchState();
    for (let t = 0; t < 2000; t += 250) expect(watchStep(st, 0, reading({ sendQueue: 100, lastAckRecv: 5 }), t, cfg)).toBe(0);
  });

  test('retransmit -> retransmit (backoff grew) -> stall -> recovered -> dead', () => {
    const st = newWatchState();
    const steps: Array<[number, Partial<WatchReading>]> = [
      [0, { sendQueue: 1000, unacked: 1, lastAckRecv: 10 }],
      [250, { sendQueue: 1000, unacked: 1, lastAckRecv: 260, retransmits: 1 }],
      [500, { sendQueue: 1000, unacked: 1, lastAckRecv: 510, retransmits: 1 }],
      [750, { sendQueue: 1000, unacked: 1, lastAckRecv: 760, retransmits: 2 }],
      [1250, { sendQueue: 1000, unacked: 1, lastAckRecv: 1260, retransmits: 2 }],
      [1500, { sendQueue: 0, lastAckRecv: 5, retransmits: 0 }],
      [1750, { sendQueue: 0, lastAckRecv: 200 }],
      [2000, { sendQueue: 500, unacked: 1, retransmits: 1, lastAckRecv: 300 }],
      [2250, { state: CLOSE, sendQueue: 500 }],
    ];
    const seen = steps.map(([t, r]) => [t, names(watchStep(st, 0, reading(r), t, cfg))]);
    expect(seen).toEqual([
      [0, []], [250, ['retransmit']], [500, []], [750, ['retransmit']], [1250, ['stall']],
      [1500, ['recovered']], [1750, []], [2000, ['retransmit']], [2250, ['dead']],
    ]);
    expect(watchDeathReason(st, 0, reading({ state: CLOSE, sendQueue: 500 }))).toBe('retransmit');
  });

  test('recovered carries how long the trouble lasted and the highest retransmits', () => {
    const st = newWatchState();
    watchStep(st, 0, reading({ sendQueue: 10, unacked: 1, retransmits: 3 }), 100, cfg);
    expect(names(watchStep(st, 0, reading(), 900, cfg))).toEqual(['recovered']);
    expect(st[WATCH_STATE.troubleMs]).toBe(800);
    expect(st[WATCH_STATE.maxRetransmits]).toBe(3);
  });

  test('a stall counts from when data became outstanding, not from an old ACK', () => {
    const st = newWatchState();
    // Idle for 60 s (last ACK long ago), then a write: not a stall at once.
    expect(watchStep(st, 0, reading({ sendQueue: 10, unacked: 1, lastAckRecv: 60_000 }), 0, cfg)).toBe(0);
    expect(watchStep(st, 0, reading({ sendQueue: 10, unacked: 1, lastAckRecv: 60_500 }), 500, cfg)).toBe(0);
    expect(names(watchStep(st, 0, reading({ sendQueue: 10, unacked: 1, lastAckRecv: 61_100 }), 1100, cfg))).toEqual(['stall']);
    // Reported once per episode.
    expect(watchStep(st, 0, reading({ sendQueue: 10, unacked: 1, lastAckRecv: 62_000 }), 2000, cfg)).toBe(0);
  });

  test('counters move before the bits are returned: the same reading never repeats an event', () => {
    const st = newWatchState();
    const r = reading({ sendQueue: 10, unacked: 1, retransmits: 1 });
    expect(names(watchStep(st, 0, r, 0, cfg))).toEqual(['retransmit']);
    for (let t = 250; t < 5000; t += 250) expect(names(watchStep(st, 0, r, t, cfg))).not.toContain('retransmit');
  });

  test('sample events at their own period', () => {
    const st = newWatchState();
    const c = { stallAfter: 1000, sampleEvery: 500, pollEvery: 250 };
    const at = [0, 250, 500, 750, 1000, 1250, 1500].filter((t) => watchStep(st, 0, reading(), t, c) & A.sample);
    expect(at).toEqual([0, 500, 1000, 1500]);
  });

  test('death reasons: keepalive when idle with probes out, zero-window behind a closed window, else kernel', () => {
    const idle = newWatchState();
    watchStep(idle, 0, reading({ probes: 1 }), 0, cfg);
    expect(watchDeathReason(idle, 0, reading({ state: CLOSE }))).toBe('keepalive');
    const window = newWatchState();
    watchStep(window, 0, reading({ sendQueue: 5000, unsent: 5000, sndWnd: 0 }), 0, cfg);
    expect(watchDeathReason(window, 0, reading({ state: CLOSE }))).toBe('zero-window');
    const reset = newWatchState();
    watchStep(reset, 0, reading(), 0, cfg);
    expect(watchDeathReason(reset, 0, reading({ state: CLOSE }))).toBe('kernel');
  });
});

describe('the one reason classifier', () => {
  test('troubleOf: SYN, data retransmitted, closed window, keepalive, healthy', () => {
    const base = { state: ESTABLISHED, sendQueue: 0, unsent: 0, retransmits: 0, probes: 0 };
    expect(troubleOf({ ...base, state: SYN_SENT })).toBe('retransmit');
    expect(troubleOf({ ...base, sendQueue: 10, retransmits: 2 })).toBe('retransmit');
    expect(troubleOf({ ...base, sendQueue: 10, unsent: 10, sndWnd: 0 })).toBe('zero-window');
    expect(troubleOf({ ...base, sendQueue: 10, unsent: 10, probes: 2 })).toBe('zero-window');
    expect(troubleOf({ ...base, probes: 1 })).toBe('keepalive');
    expect(troubleOf({ ...base, sendQueue: 10 })).toBeNull();
  });

  test('a reset with data in flight is not a retransmit death; an ETIMEDOUT with data in flight is', () => {
    const final = { state: CLOSE, sendQueue: 100, unsent: 0, retransmits: 0, probes: 0 };
    expect(deathReason(null, final)).toBe('kernel');
    expect(timeoutPath(null, final)).toBe('retransmit');
    expect(timeoutPath('keepalive', final)).toBe('keepalive');
  });

  test('the CLI names a death from its last printed sample with the same classifier', () => {
    const s = { tcp_consecutive_timeouts: 0, tcp_unacknowledged_bytes: 0, tcp_unsent_bytes: 0, tcp_send_window_bytes: 1000, tcp_probes: 0 };
    expect(reasonFromSample(undefined)).toBeUndefined();
    expect(reasonFromSample(s)).toBeUndefined();
    expect(reasonFromSample({ ...s, tcp_consecutive_timeouts: 2, tcp_unacknowledged_bytes: 10 })).toBe('retransmit');
    expect(reasonFromSample({ ...s, tcp_unacknowledged_bytes: 10 })).toBe('retransmit');
    expect(reasonFromSample({ ...s, tcp_unsent_bytes: 10, tcp_send_window_bytes: 0 })).toBe('zero-window');
    expect(reasonFromSample({ ...s, tcp_probes: 1 })).toBe('keepalive');
  });
});
