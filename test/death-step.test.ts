/**
 * The engine's pure death step fed synthetic readings: no root, no kernel
 * (the real-kernel behaviour is in failfast*.test.ts and protect*.test.ts).
 * Replaces failFast's own step (failfast-step.test.ts): the same persist-path
 * cases, plus the silent-peer path the armed poller relies on.
 */
import { deathStep, DeathReading, newDeathState } from '../lib/model/death-step';

const ESTABLISHED = 1, SYN_SENT = 2, CLOSE = 7;
const TIMEOUT = 2000;

function rd(r: Partial<DeathReading> = {}): DeathReading {
  return { state: ESTABLISHED, sendQueue: 100, unsent: 0, retransmits: 0, probes: 0, sndWnd: 65535, bytesAcked: 1, silentMs: 0, ...r };
}

test('healthy with data in flight: watching; everything acknowledged: done', () => {
  const st = newDeathState();
  for (let t = 0; t < 10_000; t += 100) expect(deathStep(st, rd({ bytesAcked: 1 + t, silentMs: 50 }), t, TIMEOUT)).toEqual({ kind: 'watching' });
  expect(deathStep(st, rd({ sendQueue: 0 }), 10_000, TIMEOUT)).toEqual({ kind: 'done' });
});

test('the peer silent for the timeout with data outstanding: retransmit; unsent behind nothing in flight: zero-window or unsent', () => {
  expect(deathStep(newDeathState(), rd({ silentMs: 1999 }), 0, TIMEOUT)).toEqual({ kind: 'watching' });
  expect(deathStep(newDeathState(), rd({ silentMs: 2000, retransmits: 2 }), 0, TIMEOUT)).toMatchObject({ kind: 'dead', reason: 'retransmit' });
  expect(deathStep(newDeathState(), rd({ silentMs: 3000, unsent: 100, sndWnd: 0 }), 0, TIMEOUT)).toMatchObject({ kind: 'dead', reason: 'zero-window' });
  expect(deathStep(newDeathState(), rd({ silentMs: 3000, unsent: 100 }), 0, TIMEOUT)).toMatchObject({ kind: 'dead', reason: 'unsent' });
});

test('unsent data behind nothing in flight, no progress, for timeout (a live peer answering probes): zero-window or unsent', () => {
  const z = newDeathState();
  expect(deathStep(z, rd({ sendQueue: 500, unsent: 500, sndWnd: 0 }), 0, TIMEOUT).kind).toBe('watching');
  expect(deathStep(z, rd({ sendQueue: 500, unsent: 500, sndWnd: 0 }), 1999, TIMEOUT).kind).toBe('watching');
  expect(deathStep(z, rd({ sendQueue: 500, unsent: 500, sndWnd: 0 }), 2000, TIMEOUT)).toMatchObject({ kind: 'dead', reason: 'zero-window' });
  const u = newDeathState();
  deathStep(u, rd({ sendQueue: 500, unsent: 500 }), 0, TIMEOUT);
  expect(deathStep(u, rd({ sendQueue: 500, unsent: 500 }), 2000, TIMEOUT)).toMatchObject({ kind: 'dead', reason: 'unsent' });
});

test('progress (bytes acknowledged) restarts the unsent clock', () => {
  const st = newDeathState();
  deathStep(st, rd({ sendQueue: 500, unsent: 500, sndWnd: 0, bytesAcked: 10 }), 0, TIMEOUT);
  deathStep(st, rd({ sendQueue: 500, unsent: 500, sndWnd: 0, bytesAcked: 20 }), 1500, TIMEOUT);
  expect(deathStep(st, rd({ sendQueue: 500, unsent: 500, sndWnd: 0, bytesAcked: 20 }), 3000, TIMEOUT).kind).toBe('watching');
  expect(deathStep(st, rd({ sendQueue: 500, unsent: 500, sndWnd: 0, bytesAcked: 20 }), 3500, TIMEOUT)).toMatchObject({ reason: 'zero-window' });
});

test('a SYN is left to the kernel; a closed connection to the deathwatch; the hint names the path', () => {
  const st = newDeathState();
  expect(deathStep(st, rd({ state: SYN_SENT, silentMs: 60_000 }), 0, TIMEOUT)).toEqual({ kind: 'watching' });
  expect(st.hint).toBe('retransmit');
  deathStep(st, rd({ sendQueue: 0, probes: 1 }), 100, TIMEOUT);
  expect(st.hint).toBe('keepalive');
  expect(deathStep(st, rd({ state: CLOSE }), 200, TIMEOUT)).toEqual({ kind: 'done' });
  expect(st.hint).toBe('keepalive'); // kept for the deathwatch's verdict
});
