/**
 * failFast's pure step fed synthetic readings: no root, no kernel (the
 * real-kernel behaviour is in failfast*.test.ts).
 */
import { failFastStep, FailFastReading, newFailFastState } from '../lib/model/failfast-step';

const ESTABLISHED = 1, CLOSE = 7;

describe('failFastStep verdicts', () => {
  const TIMEOUT = 2000;
  function ff(r: Partial<FailFastReading> = {}): FailFastReading {
    return { state: ESTABLISHED, sendQueue: 0, unsent: 0, retransmits: 0, probes: 0, sndWnd: 65535, bytesAcked: 1, ended: false, ...r };
  }

  test('healthy: no verdict', () => {
    const st = newFailFastState();
    for (let t = 0; t < 10_000; t += 100) expect(failFastStep(st, ff({ bytesAcked: 1 + t }), t, TIMEOUT)).toBeNull();
  });

  test('unsent data behind nothing in flight, no progress, for timeout: zero-window (window closed) or unsent', () => {
    const z = newFailFastState();
    expect(failFastStep(z, ff({ sendQueue: 500, unsent: 500, sndWnd: 0 }), 0, TIMEOUT)).toBeNull();
    expect(failFastStep(z, ff({ sendQueue: 500, unsent: 500, sndWnd: 0 }), 1999, TIMEOUT)).toBeNull();
    expect(failFastStep(z, ff({ sendQueue: 500, unsent: 500, sndWnd: 0 }), 2000, TIMEOUT)).toMatchObject({ kind: 'dead', reason: 'zero-window' });
    const u = newFailFastState();
    failFastStep(u, ff({ sendQueue: 500, unsent: 500 }), 0, TIMEOUT);
    expect(failFastStep(u, ff({ sendQueue: 500, unsent: 500 }), 2000, TIMEOUT)).toMatchObject({ kind: 'dead', reason: 'unsent' });
  });

  test('progress (bytes acknowledged) restarts the unsent clock', () => {
    const st = newFailFastState();
    failFastStep(st, ff({ sendQueue: 500, unsent: 500, sndWnd: 0, bytesAcked: 10 }), 0, TIMEOUT);
    failFastStep(st, ff({ sendQueue: 500, unsent: 500, sndWnd: 0, bytesAcked: 20 }), 1500, TIMEOUT);
    expect(failFastStep(st, ff({ sendQueue: 500, unsent: 500, sndWnd: 0, bytesAcked: 20 }), 3000, TIMEOUT)).toBeNull();
    expect(failFastStep(st, ff({ sendQueue: 500, unsent: 500, sndWnd: 0, bytesAcked: 20 }), 3500, TIMEOUT)).toMatchObject({ reason: 'zero-window' });
  });

  test('kernel closed it: the last unhealthy path, else kernel; an orderly close after our FIN is left alone', () => {
    const k = newFailFastState();
    failFastStep(k, ff({ probes: 1 }), 0, TIMEOUT);
    expect(failFastStep(k, ff({ state: CLOSE }), 100, TIMEOUT)).toMatchObject({ kind: 'dead', reason: 'keepalive' });
    const reset = newFailFastState();
    failFastStep(reset, ff(), 0, TIMEOUT);
    expect(failFastStep(reset, ff({ state: CLOSE }), 100, TIMEOUT)).toMatchObject({ kind: 'dead', reason: 'kernel' });
    const orderly = newFailFastState();
    failFastStep(orderly, ff(), 0, TIMEOUT);
    expect(failFastStep(orderly, ff({ state: CLOSE, ended: true }), 100, TIMEOUT)).toEqual({ kind: 'orderly' });
    expect(failFastStep(orderly, ff({ state: CLOSE, ended: true, sendQueue: 3 }), 100, TIMEOUT)).toMatchObject({ kind: 'dead' });
  });
});
