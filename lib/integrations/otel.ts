/**
 * tcp-vitals/otel: the measurements of tcp-vitals/prometheus as OpenTelemetry
 * instruments on a Meter from @opentelemetry/api (an optional peer
 * dependency: this module never loads it, it only uses the Meter it is given).
 *
 *   const { metrics } = require('@opentelemetry/api');
 *   const { registerMetrics } = require('tcp-vitals/otel');
 *   registerMetrics(metrics.getMeter('my-service'));
 *
 * Observable instruments are filled by one batch callback per collection,
 * which reads every registered connection once (one native batch read).
 */
import type { Attributes, BatchObservableCallback, Histogram, Meter, Observable } from '@opentelemetry/api';
import { invalidArgType } from '../common/errors';
import { ConnectionReader, onDeath, ReaderOptions, readerOptions, Series, STATE_COUNT, STATE_NAMES_LOWER } from './metrics-reader';
import { DETECTION_BUCKETS_SECONDS, RTT_BUCKETS_SECONDS } from './metrics-buckets';

/** Options of {@link registerMetrics}. */
export interface OtelOptions extends ReaderOptions {
  /** Bucket boundaries advised for the rtt histograms, seconds. */
  rttBuckets?: readonly number[];
  /** Bucket boundaries advised for the detection-time histogram, seconds. */
  detectionBuckets?: readonly number[];
}

/** Handle returned by {@link registerMetrics}. */
export interface OtelMetrics {
  /** The instrument names created. */
  readonly names: readonly string[];
  /** Removes the batch callback and stops recording deaths (idempotent). */
  stop(): void;
}

function attrs(s: Series, names: readonly string[]): Attributes {
  let a = s.cache.otel as Attributes | undefined;
  if (!a) {
    a = { 'network.transport': 'tcp', 'network.peer.address': s.peer === 'other' || s.address === undefined ? 'other' : s.address };
    if (s.port !== undefined) a['network.peer.port'] = s.port;
    names.forEach((n, i) => { a![n] = s.extra[i]; });
    s.cache.otel = a;
  }
  return a;
}

function stateAttrs(s: Series, names: readonly string[], state: number): Attributes {
  let arr = s.cache.otelState as Attributes[] | undefined;
  if (!arr) s.cache.otelState = arr = [];
  return (arr[state] ??= { ...attrs(s, names), 'network.connection.state': STATE_NAMES_LOWER[state] });
}

/**
 * Creates on `meter`:
 * - `tcp.connection.count` (observable up-down counter, `{connection}`, with `network.connection.state`);
 * - `tcp.connection.retransmitted_segments` (observable counter, `{segment}`; kept after close);
 * - `tcp.connection.unacknowledged` and `tcp.connection.unsent` (observable gauges, `By`);
 * - `tcp.connection.rtt`, `tcp.connection.rtt_variance` (histograms, `s`): each connection's rtt, recorded at each collection;
 * - `tcp.connection.deaths` (counter, `{connection}`, `error.type` = the death reason);
 * - `tcp.connection.detection_time` (histogram, `s`): time from the peer's last sign of life to the detection.
 * Attributes: `network.transport` 'tcp', `network.peer.address`, `network.peer.port`
 * (outbound only), at most `maxPeers` distinct peers, the rest `network.peer.address` 'other'.
 */
export function registerMetrics(meter: Meter, options?: OtelOptions): OtelMetrics {
  if (meter === null || typeof meter !== 'object' || typeof (meter as Meter).createObservableGauge !== 'function'
    || typeof (meter as Meter).addBatchObservableCallback !== 'function') {
    throw invalidArgType('meter', 'an OpenTelemetry Meter (@opentelemetry/api >= 1.3)', meter);
  }
  const ro = readerOptions(options);
  const names = ro.labelNames;
  const reader = new ConnectionReader(ro);
  const rttAdvice = { advice: { explicitBucketBoundaries: [...(options?.rttBuckets ?? RTT_BUCKETS_SECONDS)] } };

  const count = meter.createObservableUpDownCounter('tcp.connection.count', {
    description: 'Registered TCP connections by state and peer', unit: '{connection}',
  });
  const retransmits = meter.createObservableCounter('tcp.connection.retransmitted_segments', {
    description: 'Retransmitted TCP segments (tcpi_total_retrans), counted while registered', unit: '{segment}',
  });
  const unacked = meter.createObservableGauge('tcp.connection.unacknowledged', {
    description: 'Bytes sent and not yet acknowledged by the peer', unit: 'By',
  });
  const unsent = meter.createObservableGauge('tcp.connection.unsent', {
    description: 'Bytes in the kernel send queue not yet sent', unit: 'By',
  });
  const rtt: Histogram = meter.createHistogram('tcp.connection.rtt', {
    description: 'Smoothed round-trip time of each connection at each collection', unit: 's', ...rttAdvice,
  });
  const rttvar: Histogram = meter.createHistogram('tcp.connection.rtt_variance', {
    description: 'Round-trip time variance of each connection at each collection', unit: 's', ...rttAdvice,
  });
  const deaths = meter.createCounter('tcp.connection.deaths', {
    description: 'Connections declared dead (tcp-vitals:death), by reason', unit: '{connection}',
  });
  const detection = meter.createHistogram('tcp.connection.detection_time', {
    description: 'Time from the peer\'s last sign of life to the detection of its death', unit: 's',
    advice: { explicitBucketBoundaries: [...(options?.detectionBuckets ?? DETECTION_BUCKETS_SECONDS)] },
  });

  const observables: Observable[] = [count, retransmits, unacked, unsent];
  const callback: BatchObservableCallback = (result) => {
    const r = reader.read();
    for (const s of r.series) {
      if (s.retransmits > 0) result.observe(retransmits, s.retransmits, attrs(s, names));
      // A cumulative SDK keeps reporting an attribute set's last value when it
      // is no longer observed: every state a series was ever seen in is
      // observed again (0 once its connections closed).
      let seen = (s.cache.otelStates as number | undefined) ?? 0;
      for (let st = 0; st < STATE_COUNT; st++) {
        if (s.byState[st] > 0) seen |= 1 << st;
        if (seen & (1 << st)) result.observe(count, s.byState[st], stateAttrs(s, names, st));
      }
      s.cache.otelStates = seen;
      if (seen === 0) continue;
      result.observe(unacked, s.unacknowledged, attrs(s, names));
      result.observe(unsent, s.unsent, attrs(s, names));
    }
    for (let i = 0; i < r.count; i++) {
      const a = attrs(r.seriesOf[i], names);
      rtt.record(r.rtt[i], a);
      rttvar.record(r.rttvar[i], a);
    }
  };
  meter.addBatchObservableCallback(callback, observables);
  const unsubscribe = onDeath((d) => {
    deaths.add(1, { 'error.type': d.reason });
    if (d.detectionSeconds !== undefined) detection.record(d.detectionSeconds);
  });
  let stopped = false;
  return {
    names: ['tcp.connection.count', 'tcp.connection.retransmitted_segments', 'tcp.connection.unacknowledged', 'tcp.connection.unsent',
      'tcp.connection.rtt', 'tcp.connection.rtt_variance', 'tcp.connection.deaths', 'tcp.connection.detection_time'],
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      meter.removeBatchObservableCallback(callback, observables);
    },
  };
}

export { track } from './track';
export { DEFAULT_MAX_PEERS, OTHER_PEER } from './metrics-reader';
export { DETECTION_BUCKETS_SECONDS, RTT_BUCKETS_SECONDS } from './metrics-buckets';
