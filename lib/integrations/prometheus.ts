/**
 * tcp-vitals/prometheus: a prom-client collector over every connection in the
 * process-wide registry (protect() and track()).
 *
 *   const { Registry } = require('prom-client');
 *   const { registerMetrics } = require('tcp-vitals/prometheus');
 *   registerMetrics(registry);
 *
 * A scrape reads each socket once (one native batch read for all of them).
 * prom-client is an optional peer dependency, loaded only by this module.
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SeriesHistogram } from './metrics-histogram';
import { invalidArgType, invalidArgValue } from '../common/errors';
import { ConnectionReader, onDeath, ReaderOptions, readerOptions, Series, STATE_COUNT } from './metrics-reader';
import { TCP_STATES } from '../kernel/tcpinfo';
import { checkBuckets, DETECTION_BUCKETS_SECONDS, RTT_BUCKETS_SECONDS } from './metrics-buckets';


/** Options of {@link registerMetrics}. */
export interface PrometheusOptions extends ReaderOptions {
  /** Metric name prefix (default 'tcp_'). */
  prefix?: string;
  /** Histogram buckets for rtt and rtt variance, seconds. */
  rttBuckets?: readonly number[];
  /** Histogram buckets for the time from vanish to detection, seconds. */
  detectionBuckets?: readonly number[];
  /** The prom-client module to build metrics with (default: require('prom-client')). */
  client?: typeof import('prom-client');
}

/** Handle returned by {@link registerMetrics}. */
export interface PrometheusMetrics {
  /** The metric names registered. */
  readonly names: readonly string[];
  /** Unregisters the metrics and stops counting deaths (idempotent). */
  stop(): void;
}

type Labels = Record<string, string>;

/**
 * Label names an extra label (`labelNames`) may not take: the ones this
 * module sets itself (a track() label of the same name would override the
 * capped peer label), and the ones Prometheus gives a meaning. Labels starting
 * with '__' are refused too, and duplicates.
 */
export const RESERVED_LABELS: readonly string[] = Object.freeze(['peer', 'state', 'reason', 'le', 'quantile']);

function checkLabelNames(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (RESERVED_LABELS.includes(n) || n.startsWith('__')) {
      throw invalidArgValue('options.labelNames', names, `must not contain '${n}' (a label tcp-vitals/prometheus or Prometheus sets)`);
    }
    if (seen.has(n)) throw invalidArgValue('options.labelNames', names, `must not name '${n}' twice`);
    seen.add(n);
  }
}

/**
 * Registers every metric of `metrics` on `registry`, or none: a name already
 * taken throws (prom-client's error) before anything is registered, and a
 * failure part way unregisters the ones already added.
 */
function registerAll(registry: Registry, metrics: readonly object[]): void {
  const list = metrics as unknown as Array<{ name: string }>;
  for (const m of list) {
    if (registry.getSingleMetric(m.name)) throw new Error(`A metric with the name ${m.name} has already been registered.`);
  }
  const done: string[] = [];
  try {
    for (const m of list) { registry.registerMetric(m as never); done.push(m.name); }
  } catch (err) {
    for (const n of done) registry.removeSingleMetric(n);
    throw err;
  }
}

/** prom-client, loaded on first use (an optional peer dependency). */
function loadPromClient(): typeof import('prom-client') {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('prom-client');
  } catch (err) {
    if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') throw err;
    const e = new Error('tcp-vitals/prometheus needs prom-client, an optional peer dependency: npm install prom-client') as Error & { code: string };
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  }
}

function promLabels(s: Series, names: readonly string[]): Labels {
  let l = s.cache.prom as Labels | undefined;
  if (!l) {
    l = { peer: s.peer };
    names.forEach((n, i) => { l![n] = s.extra[i]; });
    s.cache.prom = l;
  }
  return l;
}

function stateLabels(s: Series, names: readonly string[], state: number): Labels {
  let arr = s.cache.promState as Labels[] | undefined;
  if (!arr) s.cache.promState = arr = [];
  return (arr[state] ??= { ...promLabels(s, names), state: TCP_STATES[state] });
}

/**
 * Registers on `registry` (names with the default prefix 'tcp_'):
 * - `tcp_connections{state,peer}` gauge: registered connections by tcp state;
 * - `tcp_retransmitted_segments_total{peer}` counter: sum of per-socket tcpi_total_retrans deltas (kept after close);
 * - `tcp_rtt_seconds{peer}`, `tcp_rtt_variance_seconds{peer}` histograms: each connection's smoothed rtt at each scrape;
 * - `tcp_unacknowledged_bytes{peer}`, `tcp_unsent_bytes{peer}` gauges: SIOCOUTQ - SIOCOUTQNSD and SIOCOUTQNSD, summed;
 * - `tcp_deaths_total{reason}` counter: deaths published on 'tcp-vitals:death';
 * - `tcp_death_detection_seconds` histogram: time from the peer's last sign of life to the detection.
 * `peer` is `host:port` for outbound connections and the peer address for
 * inbound ones, at most `maxPeers` (default 50) distinct values, the rest 'other'.
 */
export function registerMetrics(registry: Registry, options?: PrometheusOptions): PrometheusMetrics {
  if (registry === null || typeof registry !== 'object' || typeof (registry as Registry).registerMetric !== 'function') {
    throw invalidArgType('registry', 'a prom-client Registry', registry);
  }
  const ro = readerOptions(options);
  const prefix = options?.prefix ?? 'tcp_';
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) throw invalidArgType('options.prefix', 'a metric name prefix', prefix);
  const client = options?.client ?? loadPromClient();
  const names = ro.labelNames;
  checkLabelNames(names);
  const rttBuckets = checkBuckets('options.rttBuckets', options?.rttBuckets, RTT_BUCKETS_SECONDS);
  const detectionBuckets = checkBuckets('options.detectionBuckets', options?.detectionBuckets, DETECTION_BUCKETS_SECONDS);
  const reader = new ConnectionReader(ro);
  const registers: Registry[] = []; // registered all at once below (registerAll)
  const peerLabels = ['peer', ...names];
  let histogramsAt = 0;

  const connectionsGauge: Gauge = new client.Gauge({
    name: `${prefix}connections`, help: 'Registered TCP connections by state and peer', labelNames: ['state', ...peerLabels], registers,
    collect() {
      connectionsGauge.reset();
      for (const s of reader.current().series) {
        if (s.connections === 0) continue;
        for (let st = 0; st < STATE_COUNT; st++) if (s.byState[st] > 0) connectionsGauge.set(stateLabels(s, names, st), s.byState[st]);
      }
    },
  });
  const retransmits: Counter = new client.Counter({
    name: `${prefix}retransmitted_segments_total`, help: 'Retransmitted TCP segments (tcpi_total_retrans), counted while registered',
    labelNames: peerLabels, registers,
    collect() {
      retransmits.reset();
      for (const s of reader.current().series) if (s.retransmits > 0) retransmits.inc(promLabels(s, names), s.retransmits);
    },
  });
  const observeRtt = (): void => {
    const r = reader.current();
    if (r.generation === histogramsAt) return; // one reading is observed once
    histogramsAt = r.generation;
    for (let i = 0; i < r.count; i++) {
      rtt.observe(r.seriesOf[i], r.rtt[i]);
      rttvar.observe(r.seriesOf[i], r.rttvar[i]);
    }
  };
  const seriesLabels = (s: Series): Labels => promLabels(s, names);
  const rtt = new SeriesHistogram(`${prefix}rtt_seconds`, 'Smoothed round-trip time of each connection at each scrape, seconds',
    rttBuckets, seriesLabels, observeRtt);
  const rttvar = new SeriesHistogram(`${prefix}rtt_variance_seconds`, 'Round-trip time variance of each connection at each scrape, seconds',
    rttBuckets, seriesLabels, observeRtt);
  const unacked: Gauge = new client.Gauge({
    name: `${prefix}unacknowledged_bytes`, help: 'Bytes sent and not yet acknowledged by the peer', labelNames: peerLabels, registers,
    collect() {
      unacked.reset();
      for (const s of reader.current().series) if (s.connections > 0) unacked.set(promLabels(s, names), s.unacknowledged);
    },
  });
  const unsent: Gauge = new client.Gauge({
    name: `${prefix}unsent_bytes`, help: 'Bytes in the kernel send queue not yet sent', labelNames: peerLabels, registers,
    collect() {
      unsent.reset();
      for (const s of reader.current().series) if (s.connections > 0) unsent.set(promLabels(s, names), s.unsent);
    },
  });
  const deaths: Counter = new client.Counter({
    name: `${prefix}deaths_total`, help: 'Connections declared dead (tcp-vitals:death), by reason', labelNames: ['reason'], registers,
  });
  const detection: Histogram = new client.Histogram({
    name: `${prefix}death_detection_seconds`, help: 'Time from the peer\'s last sign of life to the detection of its death, seconds',
    buckets: detectionBuckets, registers,
  });
  registerAll(registry, [connectionsGauge, retransmits, rtt, rttvar, unacked, unsent, deaths, detection]);
  const unsubscribe = onDeath((d) => {
    deaths.inc({ reason: d.reason });
    if (d.detectionSeconds !== undefined) detection.observe(d.detectionSeconds);
  });
  const metricNames = [connectionsGauge, retransmits, rtt, rttvar, unacked, unsent, deaths, detection]
    .map((m) => (m as unknown as { name: string }).name);
  let stopped = false;
  return {
    names: metricNames,
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      reader.clear();
      for (const n of metricNames) registry.removeSingleMetric(n);
    },
  };
}

export { track } from './track';
export { DEFAULT_MAX_PEERS, OTHER_PEER } from './metrics-reader';
export { DETECTION_BUCKETS_SECONDS, RTT_BUCKETS_SECONDS } from './metrics-buckets';
