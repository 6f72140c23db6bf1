/**
 * Registering a collector's metrics on a prom-client Registry all at once:
 * every name is checked before anything is registered, and a failure part way
 * unregisters the ones already added, so a failed registerMetrics() leaves the
 * registry as it was and a retry works once the name is free.
 */
import type { Registry } from 'prom-client';

/**
 * Registers every metric of `metrics` on `registry`, or none: a name already
 * taken throws (prom-client's error) before anything is registered, and a
 * failure part way unregisters the ones already added.
 */
export function registerAll(registry: Registry, metrics: ReadonlyArray<{ name: string }>): void {
  for (const m of metrics) {
    if (registry.getSingleMetric(m.name)) throw new Error(`A metric with the name ${m.name} has already been registered.`);
  }
  const done: string[] = [];
  try {
    for (const m of metrics) { registry.registerMetric(m as never); done.push(m.name); }
  } catch (err) {
    for (const n of done) registry.removeSingleMetric(n);
    throw err;
  }
}
