/**
 * retain()'s bound holds for everything unacknowledged, Node's own write
 * buffer included: 256 MiB written without backpressure to a peer that never
 * reads, with maxRetainedBytes 4 MiB, never materialises the suffix, reports
 * it incomplete, and destroy() copies nothing into err.unacknowledged
 * (fixtures/retain-bound.js, in a child process so its RSS is its own).
 */
import { spawnSync } from 'node:child_process';
import { fixture } from './helpers/netns';

test('256 MiB unacknowledged, bound 4 MiB: incomplete, no suffix, no copy on destroy, RSS stays far below 256 MiB', () => {
  const out = spawnSync(process.execPath, ['--expose-gc', fixture('retain-bound.js')], { encoding: 'utf8', timeout: 120_000 });
  expect(out.stderr).toBe('');
  const r = JSON.parse(out.stdout);
  for (const mode of ['A', 'B']) {
    expect({ mode, ...r[mode] }).toEqual({
      mode,
      retention: { maxRetainedBytes: 4 * 1024 * 1024, retainedBytes: expect.any(Number), complete: false, overflows: expect.any(Number) },
      suffixLength: null,
      errUnacknowledged: null,
      unacknowledgedBytes: expect.any(Number),
    });
    expect(r[mode].retention.retainedBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(r[mode].unacknowledgedBytes).toBeGreaterThan(200 * 1024 * 1024);
  }
  // Generous: the retained copy is at most 4 MiB at a time (plus garbage not yet collected);
  // materialising the suffix alone would be 256 MiB.
  expect(r.rssGrowthMiB).toBeLessThan(128);
});
