/**
 * tcp-vitals/otel refuses histogram bounds that are not finite numbers in
 * increasing order, as tcp-vitals/prometheus does (issue 19 item 7), before
 * it creates any instrument on the meter.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { registerMetrics } from '../lib/integrations/otel';

describe('tcp-vitals/otel histogram bounds', () => {
  test.each([
    ['rttBuckets', [Infinity, NaN]],
    ['rttBuckets', [0.5, 0.1]],
    ['detectionBuckets', [1, Infinity]],
    ['durationBuckets', [0.1, 0.1]],
    ['durationBuckets', ['1']],
  ])('%s %p is refused with ERR_INVALID_ARG_VALUE or ERR_INVALID_ARG_TYPE, nothing created', (option, value) => {
    const meter = new MeterProvider().getMeter('t');
    const created: string[] = [];
    for (const k of ['createHistogram', 'createObservableGauge', 'createObservableCounter', 'createCounter'] as const) {
      const orig = (meter[k] as (...a: unknown[]) => unknown).bind(meter);
      (meter as unknown as Record<string, unknown>)[k] = (name: string, ...rest: unknown[]) => { created.push(name); return orig(name, ...rest); };
    }
    expect(() => registerMetrics(meter, { [option]: value })).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_INVALID_ARG_(VALUE|TYPE)$/) }));
    expect(created).toEqual([]);
  });

  test('good bounds are accepted', () => {
    const h = registerMetrics(new MeterProvider().getMeter('t'), { rttBuckets: [0.001, 0.01], detectionBuckets: [1, 2], durationBuckets: [0.5, 5] });
    h.stop();
  });
});
