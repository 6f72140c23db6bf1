/**
 * The pure parts: diagnoseReading() verdicts from synthetic readings, and the
 * trap flags of socketModel(). The real-kernel counterparts are in
 * diagnose.test.ts and inspect*.test.ts.
 */
import { diagnoseReading, DiagnoseInfo } from '../lib/model/diagnose';
import { socketModel, trapsOf } from '../lib/model/traps';
import { computeDeadlines, DeadlineSettings } from '../lib/model/compute';

const base: DiagnoseInfo = {
  state: 'ESTABLISHED', retransmits: 0, probes: 0, rto: 204_000, rtt: 300,
  lastDataSent: 50, lastDataRecv: 40, lastAckRecv: 40, sndWnd: 65_535, bytesAcked: 101, bytesReceived: 200,
};
const empty = { sendQueue: 0, unsent: 0, unacknowledged: 0, receiveQueue: 0 };
const NOW = 1_800_000_000_000;

describe('diagnoseReading', () => {
  test.each([
    ['healthy', base, empty],
    ['network', { ...base, retransmits: 3, lastAckRecv: 3200 }, { ...empty, sendQueue: 500, unacknowledged: 500 }],
    ['network', { ...base, lastAckRecv: 900 }, { ...empty, sendQueue: 500, unacknowledged: 500 }], // before the first RTO: no ACK for > rto
    ['network', { ...base, state: 'SYN_SENT', retransmits: 2 } as DiagnoseInfo, empty],
    ['network', { ...base, probes: 3, lastAckRecv: 9000 }, empty], // keepalive probes unanswered
    ['peer-not-reading', { ...base, sndWnd: 0, probes: 1, lastAckRecv: 300 }, { ...empty, sendQueue: 9000, unsent: 9000 }],
    ['peer-app-silent', { ...base, lastDataSent: 4200, lastDataRecv: 9000, lastAckRecv: 4190 }, empty],
    ['peer-app-silent', { ...base, lastDataSent: 4200, lastDataRecv: 4200, bytesReceived: 0 }, empty], // fresh connection, never answered
    ['idle', { ...base, lastDataSent: 4200, lastDataRecv: 4200 }, empty], // same jiffy: cannot tell, not blamed on the peer
    ['idle', { ...base, lastDataSent: 5000, lastDataRecv: 4000, lastAckRecv: 4000 }, empty],
    ['idle', { ...base, lastDataSent: 5000, lastDataRecv: 5000, bytesAcked: 1, bytesReceived: 0 }, empty], // nothing ever sent
    ['closed', { ...base, state: 'CLOSE_WAIT' } as DiagnoseInfo, empty],
    ['closed', { ...base, state: 'CLOSE' } as DiagnoseInfo, empty],
    ['network', { ...base, state: 'CLOSE', retransmits: 3 } as DiagnoseInfo, empty], // killed by the kernel's ETIMEDOUT
    ['network', { ...base, state: 'CLOSE', probes: 2 } as DiagnoseInfo, empty], // killed by unanswered keepalive probes
  ] as Array<[string, DiagnoseInfo, typeof empty]>)('%s (%#)', (verdict, info, q) => {
    expect(diagnoseReading(info, q, NOW).verdict).toBe(verdict);
  });

  test('the evidence in plain words, and since = now - duration', () => {
    const d = diagnoseReading({ ...base, lastDataSent: 4200, lastDataRecv: 9000, lastAckRecv: 4190 }, empty, NOW);
    expect(d.evidence).toBe("peer application silent for 4.20 s; network fine (every byte acknowledged by the peer's kernel 4.19 s ago, nothing received since the last send)");
    expect(d).toMatchObject({ durationMs: 4200, since: NOW - 4200 });
    const n = diagnoseReading({ ...base, retransmits: 3, rto: 1_600_000, lastAckRecv: 3200 }, { ...empty, sendQueue: 500, unacknowledged: 500, receiveQueue: 7 }, NOW);
    expect(n.evidence).toBe("500 bytes unacknowledged, retransmitting (3 timeouts, rto 1.60 s); peer last heard 3.20 s ago: the network or the peer's host is gone; 7 bytes received and not yet read by this application");
  });

  test('SYN_SENT: tcp_info ages count from boot there, so neither the evidence nor the duration uses them', () => {
    const boot = 14_760_000; // 4.1 h: what a connecting socket reports as lastAckRecv / lastDataSent / lastDataRecv
    const info = { ...base, state: 'SYN_SENT', lastAckRecv: boot, lastDataSent: boot, lastDataRecv: boot, bytesAcked: 0, bytesReceived: 0 } as DiagnoseInfo;
    const d = diagnoseReading(info, empty, NOW);
    expect(d).toMatchObject({ verdict: 'network', durationMs: null, since: null });
    expect(d.evidence).toBe("no answer to the SYN yet (not retransmitted yet, rto 204 ms): the peer's host or the path is slow or gone");
    const r = diagnoseReading({ ...info, retransmits: 2, rto: 4_000_000 }, empty, NOW);
    expect(r).toMatchObject({ verdict: 'network', durationMs: null });
    expect(r.evidence).toBe("no answer to the SYN yet (2 retransmissions, rto 4.00 s): the peer's host or the path is gone");
  });

  test('options: null, and an idleAfterMs that is NaN, negative, infinite or not a number, are Node-shaped errors', () => {
    const call = (o: unknown) => () => diagnoseReading(base, empty, NOW, o as never);
    expect(call(null)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    expect(call(5)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    for (const v of [NaN, -1, Infinity, -Infinity]) {
      expect(call({ idleAfterMs: v })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    }
    expect(call({ idleAfterMs: 'x' })).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    expect(call({ idleAfterMs: 0 })).not.toThrow();
    expect(call(undefined)).not.toThrow();
    // an inherited idleAfterMs is not an option
    expect(diagnoseReading({ ...base, lastDataSent: 5000, lastDataRecv: 4000 }, empty, NOW, Object.create({ idleAfterMs: 1e9 })).verdict).toBe('idle');
  });

  test('bad input', () => {
    expect(() => diagnoseReading(null as never, empty)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => diagnoseReading(base, undefined as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('trap flags (socketModel)', () => {
  const settings: DeadlineSettings = {
    retries2: 15, synRetries: 6, synLinearTimeouts: 4, keepAliveTimeMs: 7_200_000, keepAliveIntervalMs: 75_000,
    keepAliveProbes: 9, rtoMinMs: 200, rtoMaxMs: 120_000,
  };
  const codes = (o: Parameters<typeof socketModel>[1], s = settings) => socketModel(s, o).traps.map((t) => t.code).sort();

  test('kernel defaults: >= 15 min while sending, never while idle', () => {
    expect(codes({ keepAlive: false })).toEqual(['never-while-idle', 'slow-while-sending']);
  });
  test('keepalive on without a delay', () => {
    expect(codes({ keepAlive: true, keepAliveIdle: 7_200_000, keepAliveInterval: 75_000, keepAliveCount: 9 }))
      .toEqual(['keepalive-without-delay', 'slow-while-sending']);
  });
  test('a user timeout longer than the keepalive budget makes the kernel ignore KEEPCNT', () => {
    const o = { keepAlive: true, keepAliveIdle: 11_000, keepAliveInterval: 3000, keepAliveCount: 4, userTimeout: 60_000 };
    expect(codes(o)).toEqual(['user-timeout-ignores-keepcnt']);
    expect(socketModel(settings, o).deadlines.whileIdle).toBe(computeDeadlines({ settings, options: o }).whileIdle);
    expect(codes({ ...o, userTimeout: 20_000 })).toEqual([]);
  });
  test('tcp_keepalive_probes = 0: flagged, and idle death is the idle time (no probe)', () => {
    const s0 = { ...settings, keepAliveProbes: 0 };
    const o = { keepAlive: true, keepAliveIdle: 3000, keepAliveInterval: 1000, keepAliveCount: 0 };
    expect(codes(o, s0)).toEqual(['keepalive-probes-zero', 'slow-while-sending']);
    expect(socketModel(s0, o).deadlines.whileIdle).toBe(3000);
  });
  test('failFast-like options: no trap', () => {
    const o = { keepAlive: true, keepAliveIdle: 5000, keepAliveInterval: 1000, keepAliveCount: 5, userTimeout: 9800 };
    expect(codes(o)).toEqual([]);
    expect(trapsOf(computeDeadlines({ settings, options: o }), o)).toEqual([]);
  });
});
