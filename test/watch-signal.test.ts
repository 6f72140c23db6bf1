/**
 * The `signal` option of watch() and failFast() (one helper, runtime/signal),
 * and the watcher as an async-iterable emitter (`events.on(watcher, 'dead')`).
 */
import { on } from 'node:events';
import { fdOf } from '../lib/kernel/fd';
import { failFast } from '../lib/policy/failfast';
import { SocketWatcher, watch } from '../lib/policy/watch';
import { Scheduler } from '../lib/runtime/scheduler';
import { FakeBinding, FakeClock } from './helpers/fake-binding';
import { loopbackPair } from './helpers/loopback';

test('watch(): a bad signal is ERR_INVALID_ARG_TYPE; aborting stops the watcher; an aborted one starts stopped', async () => {
  const pair = await loopbackPair();
  try {
    expect(() => watch(pair.client, { signal: {} as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    const ac = new AbortController();
    const w = watch(pair.client, { signal: ac.signal });
    expect(w.active).toBe(true);
    ac.abort();
    expect(w.active).toBe(false);
    expect(watch(pair.client, { signal: AbortSignal.abort() }).active).toBe(false);
  } finally {
    await pair.close();
  }
});

test('failFast(): aborting unhooks it (an ETIMEDOUT is no longer augmented); the kernel options stay', async () => {
  const pair = await loopbackPair();
  try {
    expect(() => failFast(pair.client, { timeout: 2000, signal: 1 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    const ac = new AbortController();
    failFast(pair.client, { timeout: 2000, signal: ac.signal });
    ac.abort();
    const seen = new Promise<Error & { reason?: string }>((r) => pair.client.once('error', r));
    pair.client.destroy(Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' }));
    expect((await seen).reason).toBeUndefined();
  } finally {
    await pair.close();
  }
});

test("events.on(watcher, 'dead') yields the dead payload (controller driven by synthetic readings)", async () => {
  const pair = await loopbackPair();
  try {
    const binding = new FakeBinding();
    const clock = new FakeClock();
    const scheduler = new Scheduler({ binding, clock: clock.now });
    const w = new SocketWatcher(pair.client, { stallAfter: 1000, sampleEvery: 0, pollEvery: 250 }, { scheduler });
    const deaths = on(w, 'dead');
    binding.readings.set(fdOf(pair.client), { state: 7, sendQueue: 0 });
    clock.advance(250);
    scheduler.runOnce(true);
    const { value } = await deaths.next();
    expect(value[0]).toMatchObject({ reason: 'kernel', sendQueue: 0 });
    expect(w.active).toBe(false);
    await deaths.return?.();
  } finally {
    await pair.close();
  }
});
