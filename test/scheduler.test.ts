/**
 * The scheduler with an injected binding and clock: no sockets, no root.
 * Regression tests for issue 13 item 2 (one throwing subscriber or `valid()`
 * must never stop polling for anyone else).
 */
import { Sample, Scheduler } from '../lib/runtime/scheduler';
import { FakeBinding, FakeClock } from './helpers/fake-binding';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup() {
  const binding = new FakeBinding();
  const clock = new FakeClock();
  const errors: unknown[] = [];
  const scheduler = new Scheduler({ binding, clock: clock.now, onError: (e) => errors.push(e) });
  return { binding, clock, errors, scheduler };
}

describe('Scheduler (injected binding and clock)', () => {
  test('reads every due entry in one batch and hands each subscriber its own record', () => {
    const { binding, clock, scheduler } = setup();
    binding.readings.set(10, { sendQueue: 100, unsent: 40, fields: { retransmits: 2 } });
    binding.readings.set(11, { errno: 116 });
    const seen: Array<[number, number, number, number]> = [];
    const sub = (fd: number) => ({ onSample: (s: Sample) => { seen.push([fd, s.errno, s.sendQueue, s.u8(2)]); } });
    scheduler.add(10, 1n, 100, sub(10));
    scheduler.add(11, 2n, 100, sub(11));
    clock.advance(100);
    scheduler.runOnce();
    expect(binding.calls).toEqual([[10, 11]]);
    expect(seen).toEqual([[10, 0, 100, 2], [11, 116, 0, 0]]);
    scheduler.runOnce(); // nothing due yet
    expect(binding.calls).toHaveLength(1);
  });

  test('a valid() that throws drops only its own entry; every other entry keeps being read', () => {
    const { binding, errors, scheduler } = setup();
    binding.readings.set(20, {});
    let reads = 0;
    scheduler.add(21, 0n, 50, { onSample: () => {}, valid: () => { throw new Error('destroyed getter'); } });
    scheduler.add(20, 0n, 50, { onSample: () => { reads++; } });
    for (let i = 0; i < 3; i++) scheduler.runOnce(true);
    expect(reads).toBe(3);
    expect(errors).toHaveLength(1);
    expect(scheduler.size).toBe(1);
  });

  test('a throwing subscriber or task is reported and the others go on, tick after tick', () => {
    const { binding, errors, scheduler } = setup();
    binding.readings.set(30, {});
    binding.readings.set(31, {});
    let reads = 0, runs = 0;
    scheduler.add(30, 0n, 50, { onSample: () => { throw new Error('listener'); } });
    scheduler.addTask(50, { run: () => { runs++; throw new Error('task'); } });
    scheduler.add(31, 0n, 50, { onSample: () => { reads++; } });
    for (let i = 0; i < 3; i++) scheduler.runOnce(true);
    expect(reads).toBe(3);
    expect(runs).toBe(3);
    expect(errors).toHaveLength(6);
  });

  test('the timer keeps running after a valid() threw inside a timed tick', async () => {
    const binding = new FakeBinding();
    binding.readings.set(40, {});
    const errors: unknown[] = [];
    const scheduler = new Scheduler({ binding, onError: (e) => errors.push(e) });
    let reads = 0;
    scheduler.add(41, 0n, 10, { onSample: () => {}, valid: () => { throw new Error('boom'); } });
    const reg = scheduler.add(40, 0n, 10, { onSample: () => { reads++; } });
    for (let i = 0; i < 300 && reads < 3; i++) await sleep(10);
    reg.remove();
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(errors).toHaveLength(1);
  });

  test('tasks share the timer: each runs at its interval, removed ones never again', () => {
    const { clock, scheduler } = setup();
    const runs: number[] = [];
    const reg = scheduler.addTask(100, { run: (now) => { runs.push(now); } });
    clock.advance(50);
    scheduler.runOnce();
    clock.advance(50);
    scheduler.runOnce();
    reg.remove();
    clock.advance(100);
    scheduler.runOnce();
    expect(runs).toEqual([1100]);
    expect(scheduler.size).toBe(0);
  });
});
