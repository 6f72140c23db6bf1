/**
 * A real OpenTelemetry SDK MeterProvider with an in-memory exporter for the
 * tcp-vitals/otel tests: `register` gets its meter; `collect()` flushes and
 * returns the exported metrics by name.
 */
import type { Meter } from '@opentelemetry/api';
import {
  AggregationTemporality, InMemoryMetricExporter, MeterProvider, MetricData, PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

export function otelMetrics<H>(meterName: string, register: (meter: Meter) => H) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const handle = register(provider.getMeter(meterName));
  const collect = async (): Promise<Map<string, MetricData>> => {
    exporter.reset();
    await reader.forceFlush();
    const out = new Map<string, MetricData>();
    for (const rm of exporter.getMetrics()) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.descriptor.name, m);
    return out;
  };
  return { provider, handle, collect };
}
