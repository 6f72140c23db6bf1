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
import { checkBuckets, DETECTION_BUCKETS_SECONDS, DURATION_BUCKETS_SECONDS, RTT_BUCKETS_SECONDS } from './metrics-buckets';
import { ATTR, Measurement, MetricName, metricNames, MetricNaming, namingOption } from './metric-names';
import { LifecyclePeer, onLifecycle } from './metrics-lifecycle';

/** Options of {@link registerMetrics}. */
export interface OtelOptions extends ReaderOptions {
  /** Bucket boundaries advised for the rtt histograms, seconds. */
  rttBuckets?: readonly number[];
  /** Bucket boundaries advised for the detection-time histogram, seconds. */
  detectionBuckets?: readonly number[];
  /** Bucket boundaries advised for the handshake and connection duration histograms, seconds. */
  durationBuckets?: readonly number[];
  /**
   * 'otel' (default): the semantic-conventions proposal's `system.network.tcp.*`
   * names. 'legacy': the 0.1 names (`tcp.connection.*`), kept for one minor version.
   */
  names?: MetricNaming;
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
    a = { [ATTR.transport]: 'tcp', [ATTR.peerAddress]: s.peer === 'other' || s.address === undefined ? 'other' : s.address };
    if (s.port !== undefined) a[ATTR.peerPort] = s.port;
    names.forEach((n, i) => { a![n] = s.extra[i]; });
    s.cache.otel = a;
  }
  return a;
}

function stateAttrs(s: Series, names: readonly string[], state: number): Attributes {
  let arr = s.cache.otelState as Attributes[] | undefined;
  if (!arr) s.cache.otelState = arr = [];
  return (arr[state] ??= { ...attrs(s, names), [ATTR.state]: STATE_NAMES_LOWER[state] });
}

/** The retransmit-type attribute sets of a series ('timeout', 'other', 'unknown'). */
function typedAttrs(s: Series, names: readonly string[]): Record<'timeout' | 'other' | 'unknown', Attributes> {
  let t = s.cache.otelTyped as Record<'timeout' | 'other' | 'unknown', Attributes> | undefined;
  if (!t) {
    const a = attrs(s, names);
    t = s.cache.otelTyped = {
      timeout: { ...a, [ATTR.retransmitType]: 'timeout' },
      other: { ...a, [ATTR.retransmitType]: 'other' },
      unknown: { ...a, [ATTR.retransmitType]: 'unknown' },
    };
  }
  return t;
}

/**
 * Creates on `meter` (default names; `names: 'legacy'` gives the 0.1 names,
 * see docs/metrics.md for both):
 * - `system.network.tcp.connection.count` (observable up-down counter, `{connection}`, with `network.connection.state`);
 * - `system.network.tcp.retransmits` (observable counter, `{segment}`, `network.tcp.retransmit.type`
 *   'timeout' / 'other' / 'unknown'; kept after close) and `system.network.tcp.spurious_retransmits` (D-SACK);
 * - `system.network.tcp.unacknowledged` and `system.network.tcp.unsent` (observable gauges, `By`);
 * - `system.network.tcp.rtt.duration`, `system.network.tcp.rtt.variance` (histograms, `s`): each connection's rtt, recorded at each collection;
 * - `system.network.tcp.handshake.duration` (histogram, `s`): connect() to established, outbound connections;
 * - `system.network.tcp.connection.duration` (histogram, `s`): established (or accepted) to close;
 * - `system.network.tcp.connection.failures` (counter, `{connection}`, `reason`): connects that did not reach established;
 * - `system.network.tcp.resets` (counter, `{connection}`): established connections that ended with a reset from the peer;
 * - `tcp_vitals.connection.deaths` (counter, `{connection}`, `reason` = the death reason);
 * - `tcp_vitals.death.detection.duration` (histogram, `s`): time from the peer's last sign of life to the detection.
 * Attributes: `network.transport` 'tcp', `network.peer.address`, `network.peer.port`
 * (outbound only), at most `maxPeers` distinct peers, the rest `network.peer.address` 'other';
 * lifecycle instruments add `network.tcp.handshake.role` ('client' / 'server').
 */
export function registerMetrics(meter: Meter, options?: OtelOptions): OtelMetrics {
  if (meter === null || typeof meter !== 'object' || typeof (meter as Meter).createObservableGauge !== 'function'
    || typeof (meter as Meter).addBatchObservableCallback !== 'function') {
    throw invalidArgType('meter', 'an OpenTelemetry Meter (@opentelemetry/api >= 1.3)', meter);
  }
  const ro = readerOptions(options);
  const naming = namingOption(options?.names);
  const legacy = naming === 'legacy';
  const table = metricNames(naming);
  const names = ro.labelNames;
  const detectionBuckets = checkBuckets('options.detectionBuckets', options?.detectionBuckets, DETECTION_BUCKETS_SECONDS);
  const reader = new ConnectionReader(ro);
  const rttAdvice = { advice: { explicitBucketBoundaries: checkBuckets('options.rttBuckets', options?.rttBuckets, RTT_BUCKETS_SECONDS) } };
  const durationAdvice = { advice: { explicitBucketBoundaries: checkBuckets('options.durationBuckets', options?.durationBuckets, DURATION_BUCKETS_SECONDS) } };
  const created: string[] = [];
  const n = (m: Measurement): MetricName => { const x = table[m]!; created.push(x.otel); return x; };

  const c = n('connections');
  const count = meter.createObservableUpDownCounter(c.otel, { description: 'Registered TCP connections by state and peer', unit: c.unit });
  const r = n('retransmits');
  const retransmits = meter.createObservableCounter(r.otel, {
    description: legacy ? 'Retransmitted TCP segments (tcpi_total_retrans), counted while registered'
      : 'Retransmitted TCP segments (tcpi_total_retrans), counted while registered, by type (timeout: tcpi_total_rto)', unit: r.unit,
  });
  const sp = legacy ? undefined : n('spuriousRetransmits');
  const spurious = sp && meter.createObservableCounter(sp.otel, {
    description: 'Retransmissions the peer reported as duplicates (D-SACK, tcpi_dsack_dups): spurious', unit: sp.unit,
  });
  const ua = n('unacknowledged');
  const unacked = meter.createObservableGauge(ua.otel, { description: 'Bytes sent and not yet acknowledged by the peer', unit: ua.unit });
  const us = n('unsent');
  const unsent = meter.createObservableGauge(us.otel, { description: 'Bytes in the kernel send queue not yet sent', unit: us.unit });
  const rt = n('rtt');
  const rtt: Histogram = meter.createHistogram(rt.otel, {
    description: 'Smoothed round-trip time of each connection at each collection', unit: rt.unit, ...rttAdvice,
  });
  const rv = n('rttvar');
  const rttvar: Histogram = meter.createHistogram(rv.otel, {
    description: 'Round-trip time variance of each connection at each collection', unit: rv.unit, ...rttAdvice,
  });
  const de = n('deaths');
  const deaths = meter.createCounter(de.otel, { description: 'Connections declared dead (tcp-vitals:death), by reason', unit: de.unit });
  const dt = n('detection');
  const detection = meter.createHistogram(dt.otel, {
    description: 'Time from the peer\'s last sign of life to the detection of its death', unit: dt.unit,
    advice: { explicitBucketBoundaries: detectionBuckets },
  });
  let stopLifecycle = (): void => {};
  if (!legacy) {
    const hs = n('handshake');
    const handshake = meter.createHistogram(hs.otel, { description: 'TCP handshake duration: connect() to established (outbound)', unit: hs.unit, ...durationAdvice });
    const cd = n('connectionDuration');
    const duration = meter.createHistogram(cd.otel, { description: 'TCP connection duration: established (or accepted) to close', unit: cd.unit, ...durationAdvice });
    const fa = n('failures');
    const failures = meter.createCounter(fa.otel, { description: 'TCP connects that did not reach established, by reason', unit: fa.unit });
    const rs = n('resets');
    const resets = meter.createCounter(rs.otel, { description: 'Established TCP connections that ended with a reset from the peer', unit: rs.unit });
    const peerAttrs = (p: LifecyclePeer): Attributes => {
      const l = reader.peerLabel(p.address, p.role === 'client' ? p.port : undefined);
      const a: Attributes = { [ATTR.transport]: 'tcp', [ATTR.peerAddress]: l.address ?? 'other', [ATTR.role]: p.role };
      if (l.port !== undefined) a[ATTR.peerPort] = l.port;
      return a;
    };
    stopLifecycle = onLifecycle({
      handshake: (seconds, p) => handshake.record(seconds, peerAttrs(p)),
      closed: (seconds, p) => duration.record(seconds, peerAttrs(p)),
      failure: (reason, p) => failures.add(1, { ...peerAttrs(p), [ATTR.reason]: reason }),
      reset: (p) => resets.add(1, peerAttrs(p)),
    });
  }

  const observables: Observable[] = [count, retransmits, unacked, unsent];
  if (spurious) observables.push(spurious);
  const callback: BatchObservableCallback = (result) => {
    const rd = reader.read();
    for (const s of rd.series) {
      if (s.retransmits > 0) {
        if (legacy) {
          result.observe(retransmits, s.retransmits, attrs(s, names));
        } else {
          const t = typedAttrs(s, names);
          const other = s.retransmits - s.retransmitsTimeout - s.retransmitsUntyped;
          if (s.retransmitsTimeout > 0) result.observe(retransmits, s.retransmitsTimeout, t.timeout);
          if (other > 0) result.observe(retransmits, other, t.other);
          if (s.retransmitsUntyped > 0) result.observe(retransmits, s.retransmitsUntyped, t.unknown);
        }
      }
      if (spurious && s.spuriousRetransmits > 0) result.observe(spurious, s.spuriousRetransmits, attrs(s, names));
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
    for (let i = 0; i < rd.count; i++) {
      const a = attrs(rd.seriesOf[i], names);
      rtt.record(rd.rtt[i], a);
      rttvar.record(rd.rttvar[i], a);
    }
  };
  meter.addBatchObservableCallback(callback, observables);
  const reasonKey = legacy ? 'error.type' : ATTR.reason;
  const unsubscribe = onDeath((d) => {
    deaths.add(1, { [reasonKey]: d.reason });
    if (d.detectionSeconds !== undefined) detection.record(d.detectionSeconds);
  });
  let stopped = false;
  return {
    names: created,
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      stopLifecycle();
      reader.clear();
      meter.removeBatchObservableCallback(callback, observables);
    },
  };
}

export { track } from './track';
export { DEFAULT_MAX_PEERS, OTHER_PEER } from './metrics-reader';
export { DETECTION_BUCKETS_SECONDS, DURATION_BUCKETS_SECONDS, RTT_BUCKETS_SECONDS } from './metrics-buckets';
export { RETRANSMIT_TYPES, FAILURE_REASONS } from './metric-names';
export type { MetricNaming, FailureReason } from './metric-names';
export { httpSpanHooks } from './otel-http';
export type { HttpSpanHooks, HttpSpanHooksOptions } from './otel-http';
export { undiciSpanFacts } from './otel-undici';
export type { UndiciSpanFacts, UndiciSpanFactsOptions } from './otel-undici';
export { SPAN_ATTRIBUTES } from './span-facts';
export type { SpanFactsOptions, AttributeSink } from './span-facts';
