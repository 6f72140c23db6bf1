/**
 * The one table of metric names of tcp-vitals/otel and tcp-vitals/prometheus.
 *
 * Default ('otel'): the names of OpenTelemetry's semantic-conventions
 * proposal for kernel TCP metrics (open-telemetry/semantic-conventions#3682,
 * 2026-04, status development): `system.network.tcp.*`, seconds, the
 * `network.peer.*` / `network.transport` attributes, `reason` for failures,
 * `network.tcp.retransmit.type` and `network.tcp.handshake.role`. Where the
 * proposal has no name for a measurement we make, the name is derived the
 * same way; measurements that are tcp-vitals' own (deaths it detected) live
 * under `tcp_vitals.*`. Prometheus names are the OTel names translated as
 * OpenTelemetry's Prometheus exporter does: dots to underscores, the unit as
 * a suffix (`_seconds`, `_bytes`), `_total` on counters.
 *
 * 'legacy': the names of 0.1 (`tcp.connection.*`, `tcp_*`), kept for one
 * minor version (see CHANGELOG.md).
 */
import { invalidArgValue } from '../common/errors';

/** Which set of names the collectors use. */
export type MetricNaming = 'otel' | 'legacy';

/** Every measurement the collectors make. */
export type Measurement = 'connections' | 'retransmits' | 'spuriousRetransmits' | 'unacknowledged' | 'unsent' | 'rtt' | 'rttvar'
  | 'deaths' | 'detection' | 'handshake' | 'connectionDuration' | 'failures' | 'resets';

/** One measurement's OTel name and unit, and its Prometheus name (without the prefix option). */
export interface MetricName {
  readonly otel: string;
  readonly unit: string;
  readonly prom: string;
}

const OTEL: Readonly<Record<Measurement, MetricName>> = {
  connections: { otel: 'system.network.tcp.connection.count', unit: '{connection}', prom: 'system_network_tcp_connection_count' },
  retransmits: { otel: 'system.network.tcp.retransmits', unit: '{segment}', prom: 'system_network_tcp_retransmits_total' },
  spuriousRetransmits: { otel: 'system.network.tcp.spurious_retransmits', unit: '{segment}', prom: 'system_network_tcp_spurious_retransmits_total' },
  unacknowledged: { otel: 'system.network.tcp.unacknowledged', unit: 'By', prom: 'system_network_tcp_unacknowledged_bytes' },
  unsent: { otel: 'system.network.tcp.unsent', unit: 'By', prom: 'system_network_tcp_unsent_bytes' },
  rtt: { otel: 'system.network.tcp.rtt.duration', unit: 's', prom: 'system_network_tcp_rtt_duration_seconds' },
  rttvar: { otel: 'system.network.tcp.rtt.variance', unit: 's', prom: 'system_network_tcp_rtt_variance_seconds' },
  handshake: { otel: 'system.network.tcp.handshake.duration', unit: 's', prom: 'system_network_tcp_handshake_duration_seconds' },
  connectionDuration: { otel: 'system.network.tcp.connection.duration', unit: 's', prom: 'system_network_tcp_connection_duration_seconds' },
  failures: { otel: 'system.network.tcp.connection.failures', unit: '{connection}', prom: 'system_network_tcp_connection_failures_total' },
  resets: { otel: 'system.network.tcp.resets', unit: '{connection}', prom: 'system_network_tcp_resets_total' },
  deaths: { otel: 'tcp_vitals.connection.deaths', unit: '{connection}', prom: 'tcp_vitals_connection_deaths_total' },
  detection: { otel: 'tcp_vitals.death.detection.duration', unit: 's', prom: 'tcp_vitals_death_detection_duration_seconds' },
};

/** The 0.1 names; the measurements 0.1 did not make have none (not registered in legacy mode). */
const LEGACY: Readonly<Partial<Record<Measurement, MetricName>>> = {
  connections: { otel: 'tcp.connection.count', unit: '{connection}', prom: 'connections' },
  retransmits: { otel: 'tcp.connection.retransmitted_segments', unit: '{segment}', prom: 'retransmitted_segments_total' },
  unacknowledged: { otel: 'tcp.connection.unacknowledged', unit: 'By', prom: 'unacknowledged_bytes' },
  unsent: { otel: 'tcp.connection.unsent', unit: 'By', prom: 'unsent_bytes' },
  rtt: { otel: 'tcp.connection.rtt', unit: 's', prom: 'rtt_seconds' },
  rttvar: { otel: 'tcp.connection.rtt_variance', unit: 's', prom: 'rtt_variance_seconds' },
  deaths: { otel: 'tcp.connection.deaths', unit: '{connection}', prom: 'deaths_total' },
  detection: { otel: 'tcp.connection.detection_time', unit: 's', prom: 'death_detection_seconds' },
};

/** Attribute names (OTel) of the 'otel' naming; Prometheus label names are these with dots as underscores. */
export const ATTR = Object.freeze({
  transport: 'network.transport',
  peerAddress: 'network.peer.address',
  peerPort: 'network.peer.port',
  state: 'network.connection.state',
  retransmitType: 'network.tcp.retransmit.type',
  role: 'network.tcp.handshake.role',
  reason: 'reason',
});

/** OTel attribute name -> Prometheus label name. */
export function promLabel(otelAttribute: string): string {
  return otelAttribute.replace(/\./g, '_');
}

/**
 * Values of `network.tcp.retransmit.type` tcp_info can tell apart: 'timeout'
 * (retransmission-timer expiries, tcpi_total_rto, Linux >= 6.7) and 'other'
 * (everything else: fast retransmits, tail loss probes, the segments resent
 * during a loss recovery; tcp_info has no separate counter for them). On a
 * kernel without tcpi_total_rto every retransmit is 'unknown'.
 */
export const RETRANSMIT_TYPES = Object.freeze(['timeout', 'other', 'unknown'] as const);

/** Values of the failures' `reason` attribute. */
export const FAILURE_REASONS = Object.freeze(['refused', 'reset', 'timed_out', 'host_unreachable', 'net_unreachable', 'other'] as const);
/** One failure reason. */
export type FailureReason = typeof FAILURE_REASONS[number];

/** The name table for `naming`; measurements absent from it are not registered. */
export function metricNames(naming: MetricNaming): Readonly<Partial<Record<Measurement, MetricName>>> {
  return naming === 'legacy' ? LEGACY : OTEL;
}

/** Validates the `names` option. */
export function namingOption(value: unknown): MetricNaming {
  if (value === undefined || value === 'otel') return 'otel';
  if (value === 'legacy') return 'legacy';
  throw invalidArgValue('options.names', value, "must be 'otel' or 'legacy'");
}
