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
import { registerAll } from './metrics-registration';
import { invalidArgType, invalidArgValue } from '../common/errors';
import { ConnectionReader, onDeath, ReaderOptions, readerOptions, Series, STATE_COUNT, STATE_NAMES_LOWER } from './metrics-reader';
import { TCP_STATES } from '../kernel/tcpinfo';
import { checkBuckets, DETECTION_BUCKETS_SECONDS, DURATION_BUCKETS_SECONDS, RTT_BUCKETS_SECONDS } from './metrics-buckets';
import { ATTR, Measurement, metricNames, MetricNaming, namingOption, promLabel } from './metric-names';
import { LifecyclePeer, onLifecycle } from './metrics-lifecycle';

/** Options of {@link registerMetrics}. */
export interface PrometheusOptions extends ReaderOptions {
  /** Metric name prefix (default '' with the OTel names, 'tcp_' with `names: 'legacy'`). */
  prefix?: string;
  /** Histogram buckets for rtt and rtt variance, seconds. */
  rttBuckets?: readonly number[];
  /** Histogram buckets for the time from vanish to detection, seconds. */
  detectionBuckets?: readonly number[];
  /** Histogram buckets for the handshake and connection durations, seconds. */
  durationBuckets?: readonly number[];
  /** The prom-client module to build metrics with (default: require('prom-client')). */
  client?: typeof import('prom-client');
  /**
   * 'otel' (default): the semantic-conventions proposal's names translated to
   * Prometheus (`system_network_tcp_*`, `network_peer_address` labels).
   * 'legacy': the 0.1 names (`tcp_*`, a `peer` label), kept for one minor version.
   */
  names?: MetricNaming;
}

/** Handle returned by {@link registerMetrics}. */
export interface PrometheusMetrics {
  /** The metric names registered. */
  readonly names: readonly string[];
  /** Unregisters the metrics and stops counting deaths (idempotent). */
  stop(): void;
}

type Labels = Record<string, string>;

const L_TRANSPORT = promLabel(ATTR.transport);
const L_ADDRESS = promLabel(ATTR.peerAddress);
const L_PORT = promLabel(ATTR.peerPort);
const L_STATE = promLabel(ATTR.state);
const L_TYPE = promLabel(ATTR.retransmitType);
const L_ROLE = promLabel(ATTR.role);

/**
 * Label names an extra label (`labelNames`) may not take: the ones this
 * module sets itself under either naming (a track() label of the same name
 * would override the capped peer label), and the ones Prometheus gives a
 * meaning. Labels starting with '__' are refused too, and duplicates.
 */
export const RESERVED_LABELS: readonly string[] = Object.freeze([
  'peer', 'state', 'reason', L_TRANSPORT, L_ADDRESS, L_PORT, L_STATE, L_TYPE, L_ROLE, 'le', 'quantile',
]);

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

function promLabels(s: Series, names: readonly string[], legacy: boolean): Labels {
  let l = s.cache.prom as Labels | undefined;
  if (!l) {
    if (legacy) {
      l = { peer: s.peer };
    } else {
      l = { [L_TRANSPORT]: 'tcp', [L_ADDRESS]: s.peer === 'other' || s.address === undefined ? 'other' : s.address, [L_PORT]: s.port === undefined ? '' : String(s.port) };
    }
    names.forEach((n, i) => { l![n] = s.extra[i]; });
    s.cache.prom = l;
  }
  return l;
}

function stateLabels(s: Series, names: readonly string[], state: number, legacy: boolean): Labels {
  let arr = s.cache.promState as Labels[] | undefined;
  if (!arr) s.cache.promState = arr = [];
  return (arr[state] ??= legacy ? { ...promLabels(s, names, true), state: TCP_STATES[state] }
    : { ...promLabels(s, names, false), [L_STATE]: STATE_NAMES_LOWER[state] });
}

function typedLabels(s: Series, names: readonly string[], type: 'timeout' | 'other' | 'unknown'): Labels {
  let t = s.cache.promTyped as Record<string, Labels> | undefined;
  if (!t) s.cache.promTyped = t = {};
  return (t[type] ??= { ...promLabels(s, names, false), [L_TYPE]: type });
}

/**
 * Registers on `registry` (default names; `names: 'legacy'` gives the 0.1
 * `tcp_*` names, see docs/metrics.md for both):
 * - `system_network_tcp_connection_count{network_connection_state,...}` gauge: registered connections by tcp state;
 * - `system_network_tcp_retransmits_total{network_tcp_retransmit_type}` counter: sum of per-socket tcpi_total_retrans deltas
 *   (kept after close), 'timeout' (tcpi_total_rto), 'other', or 'unknown' (kernel without tcpi_total_rto);
 * - `system_network_tcp_spurious_retransmits_total` counter: tcpi_dsack_dups deltas;
 * - `system_network_tcp_rtt_duration_seconds`, `system_network_tcp_rtt_variance_seconds` histograms: each connection's smoothed rtt at each scrape;
 * - `system_network_tcp_unacknowledged_bytes`, `system_network_tcp_unsent_bytes` gauges: SIOCOUTQ - SIOCOUTQNSD and SIOCOUTQNSD, summed;
 * - `system_network_tcp_handshake_duration_seconds`, `system_network_tcp_connection_duration_seconds` histograms;
 * - `system_network_tcp_connection_failures_total{reason,network_tcp_handshake_role}` counter: connects that did not reach established;
 * - `system_network_tcp_resets_total{network_tcp_handshake_role}` counter: established connections ended by a reset from the peer;
 * - `tcp_vitals_connection_deaths_total{reason}` counter: deaths published on 'tcp-vitals:death';
 * - `tcp_vitals_death_detection_duration_seconds` histogram: time from the peer's last sign of life to the detection.
 * Peer labels: `network_transport` 'tcp', `network_peer_address`, `network_peer_port` ('' for inbound:
 * ephemeral), at most `maxPeers` (default 50) distinct peers, the rest `network_peer_address` 'other'.
 */
export function registerMetrics(registry: Registry, options?: PrometheusOptions): PrometheusMetrics {
  if (registry === null || typeof registry !== 'object' || typeof (registry as Registry).registerMetric !== 'function') {
    throw invalidArgType('registry', 'a prom-client Registry', registry);
  }
  const ro = readerOptions(options);
  const naming = namingOption(options?.names);
  const legacy = naming === 'legacy';
  const table = metricNames(naming);
  const prefix = options?.prefix ?? (legacy ? 'tcp_' : '');
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) throw invalidArgType('options.prefix', 'a metric name prefix', prefix);
  const client = options?.client ?? loadPromClient();
  const names = ro.labelNames;
  checkLabelNames(names);
  const rttBuckets = checkBuckets('options.rttBuckets', options?.rttBuckets, RTT_BUCKETS_SECONDS);
  const detectionBuckets = checkBuckets('options.detectionBuckets', options?.detectionBuckets, DETECTION_BUCKETS_SECONDS);
  const durationBuckets = checkBuckets('options.durationBuckets', options?.durationBuckets, DURATION_BUCKETS_SECONDS);
  const reader = new ConnectionReader(ro);
  const registers: Registry[] = []; // all registered at once below (registerAll): all or nothing
  const peerLabels = legacy ? ['peer', ...names] : [L_TRANSPORT, L_ADDRESS, L_PORT, ...names];
  const name = (m: Measurement): string => `${prefix}${table[m]!.prom}`;
  const labelsOf = (s: Series): Labels => promLabels(s, names, legacy);
  let histogramsAt = 0;

  const connectionsGauge: Gauge = new client.Gauge({
    name: name('connections'), help: 'Registered TCP connections by state and peer', labelNames: [legacy ? 'state' : L_STATE, ...peerLabels], registers,
    collect() {
      connectionsGauge.reset();
      for (const s of reader.current().series) {
        if (s.connections === 0) continue;
        for (let st = 0; st < STATE_COUNT; st++) if (s.byState[st] > 0) connectionsGauge.set(stateLabels(s, names, st, legacy), s.byState[st]);
      }
    },
  });
  const retransmits: Counter = new client.Counter({
    name: name('retransmits'), help: 'Retransmitted TCP segments (tcpi_total_retrans), counted while registered' + (legacy ? '' : ', by type'),
    labelNames: legacy ? peerLabels : [...peerLabels, L_TYPE], registers,
    collect() {
      retransmits.reset();
      for (const s of reader.current().series) {
        if (s.retransmits === 0) continue;
        if (legacy) { retransmits.inc(labelsOf(s), s.retransmits); continue; }
        const other = s.retransmits - s.retransmitsTimeout - s.retransmitsUntyped;
        if (s.retransmitsTimeout > 0) retransmits.inc(typedLabels(s, names, 'timeout'), s.retransmitsTimeout);
        if (other > 0) retransmits.inc(typedLabels(s, names, 'other'), other);
        if (s.retransmitsUntyped > 0) retransmits.inc(typedLabels(s, names, 'unknown'), s.retransmitsUntyped);
      }
    },
  });
  const all: Array<{ name: string }> = [connectionsGauge as never, retransmits as never];
  if (!legacy) {
    const spurious: Counter = new client.Counter({
      name: name('spuriousRetransmits'), help: 'Retransmissions the peer reported as duplicates (D-SACK, tcpi_dsack_dups): spurious',
      labelNames: peerLabels, registers,
      collect() {
        spurious.reset();
        for (const s of reader.current().series) if (s.spuriousRetransmits > 0) spurious.inc(labelsOf(s), s.spuriousRetransmits);
      },
    });
    all.push(spurious as never);
  }
  const observeRtt = (): void => {
    const r = reader.current();
    if (r.generation === histogramsAt) return; // one reading is observed once
    histogramsAt = r.generation;
    for (let i = 0; i < r.count; i++) {
      rtt.observe(r.seriesOf[i], r.rtt[i]);
      rttvar.observe(r.seriesOf[i], r.rttvar[i]);
    }
  };
  const rtt = new SeriesHistogram(name('rtt'), 'Smoothed round-trip time of each connection at each scrape, seconds',
    rttBuckets, labelsOf, observeRtt);
  const rttvar = new SeriesHistogram(name('rttvar'), 'Round-trip time variance of each connection at each scrape, seconds',
    rttBuckets, labelsOf, observeRtt);
  all.push(rtt, rttvar);
  const unacked: Gauge = new client.Gauge({
    name: name('unacknowledged'), help: 'Bytes sent and not yet acknowledged by the peer', labelNames: peerLabels, registers,
    collect() {
      unacked.reset();
      for (const s of reader.current().series) if (s.connections > 0) unacked.set(labelsOf(s), s.unacknowledged);
    },
  });
  const unsent: Gauge = new client.Gauge({
    name: name('unsent'), help: 'Bytes in the kernel send queue not yet sent', labelNames: peerLabels, registers,
    collect() {
      unsent.reset();
      for (const s of reader.current().series) if (s.connections > 0) unsent.set(labelsOf(s), s.unsent);
    },
  });
  const deaths: Counter = new client.Counter({
    name: name('deaths'), help: 'Connections declared dead (tcp-vitals:death), by reason', labelNames: ['reason'], registers,
  });
  const detection: Histogram = new client.Histogram({
    name: name('detection'), help: 'Time from the peer\'s last sign of life to the detection of its death, seconds',
    buckets: detectionBuckets, registers,
  });
  all.push(unacked as never, unsent as never, deaths as never, detection as never);
  let stopLifecycle = (): void => {};
  if (!legacy) {
    const lifecycleLabels = [L_TRANSPORT, L_ADDRESS, L_PORT, L_ROLE];
    const handshake: Histogram = new client.Histogram({
      name: name('handshake'), help: 'TCP handshake duration: connect() to established (outbound), seconds',
      labelNames: lifecycleLabels, buckets: durationBuckets, registers,
    });
    const duration: Histogram = new client.Histogram({
      name: name('connectionDuration'), help: 'TCP connection duration: established (or accepted) to close, seconds',
      labelNames: lifecycleLabels, buckets: durationBuckets, registers,
    });
    const failures: Counter = new client.Counter({
      name: name('failures'), help: 'TCP connects that did not reach established, by reason', labelNames: [...lifecycleLabels, 'reason'], registers,
    });
    const resets: Counter = new client.Counter({
      name: name('resets'), help: 'Established TCP connections that ended with a reset from the peer', labelNames: lifecycleLabels, registers,
    });
    all.push(handshake as never, duration as never, failures as never, resets as never);
    const lifecycle = (p: LifecyclePeer): Labels => {
      const l = reader.peerLabel(p.address, p.role === 'client' ? p.port : undefined);
      return { [L_TRANSPORT]: 'tcp', [L_ADDRESS]: l.address ?? 'other', [L_PORT]: l.port === undefined ? '' : String(l.port), [L_ROLE]: p.role };
    };
    stopLifecycle = onLifecycle({
      handshake: (seconds, p) => handshake.observe(lifecycle(p), seconds),
      closed: (seconds, p) => duration.observe(lifecycle(p), seconds),
      failure: (reason, p) => failures.inc({ ...lifecycle(p), reason }),
      reset: (p) => resets.inc(lifecycle(p)),
    });
  }
  try {
    registerAll(registry, all);
  } catch (err) {
    stopLifecycle(); // all or nothing: no subscription outlives a failed registration
    throw err;
  }
  const unsubscribe = onDeath((d) => {
    deaths.inc({ reason: d.reason });
    if (d.detectionSeconds !== undefined) detection.observe(d.detectionSeconds);
  });
  const metricNamesList = all.map((m) => m.name);
  let stopped = false;
  return {
    names: metricNamesList,
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      stopLifecycle();
      reader.clear();
      for (const n of metricNamesList) registry.removeSingleMetric(n);
    },
  };
}

export { track } from './track';
export { DEFAULT_MAX_PEERS, OTHER_PEER } from './metrics-reader';
export { DETECTION_BUCKETS_SECONDS, DURATION_BUCKETS_SECONDS, RTT_BUCKETS_SECONDS } from './metrics-buckets';
export { RETRANSMIT_TYPES, FAILURE_REASONS } from './metric-names';
export type { MetricNaming, FailureReason } from './metric-names';
