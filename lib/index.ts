/**
 * tcp-vitals: see and steer what the Linux kernel does with your TCP
 * connections.
 *
 * The front door, grouped by what you want to do. Other entry points:
 * `tcp-vitals/model` (the pure deadline math, no addon), `tcp-vitals/register`
 * (protect every connection of the process), `tcp-vitals/prometheus`,
 * `tcp-vitals/otel`. docs/ARCHITECTURE.md maps the rest.
 */
import * as model from './model';
import { TCP_STATE as kernelTcpState } from './kernel/tcpinfo';
import { DEFAULT_MAX_RETAINED_BYTES as maxRetainedDefault } from './policy/delivery';
import { DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS as gracefulCloseDefault } from './policy/close';

// ---------------------------------------------- fail fast when a peer vanishes
export { failFast } from './policy/failfast';
export type { FailFastOptions, FailFastHandle } from './policy/failfast';
export { protect } from './policy/protect';
export type { ProtectHandle, ProtectOptions, ProtectStats, ConnectionInfo, MatchResult, ScopeOptions } from './policy/protect';
export { misconfigurationAlarms, alarmsRaised, ALARM_CODES } from './policy/alarms';
export type { Alarm, AlarmCode, Alarms } from './policy/alarms';
export { failFastAgent, FailFastAgent, FailFastHttpsAgent, failFastConnector } from './integrations/agent';
export type { UndiciConnector } from './integrations/agent';
export { PeerGoneError, AckAbortError, isPeerGoneError, isAckAbortError } from './common/errors';
export type { SystemError, DeathReason } from './common/errors';

// ------------------------------------------------- watch connections, servers
export { watch, WATCH_EVENTS } from './policy/watch';
export type {
  Watcher, WatchOptions, WatchEvents, SocketWatchEvents, RetransmitEvent, StallEvent, RecoveredEvent, DeadEvent, SampleEvent,
} from './policy/watch';
export { listenQueue, listenCounters, watchServer, SERVER_EVENTS } from './policy/server';
export type {
  ListenQueue, ListenCounters, QueueEvent, OverflowEvent, WatchServerOptions, ServerWatch, ServerWatchEvents, ServerSocketEvents,
} from './policy/server';
export { requestVitals } from './integrations/request-vitals';
export type { RequestVitals } from './integrations/request-vitals';

// ------------------------------------------ read one connection (decide nothing)
export { tcpInfo, decodeTcpInfo, TCP_STATES, TCPI_OPT, CA_STATES } from './kernel/tcpinfo';
export type { TcpInfo, TcpState } from './kernel/tcpinfo';
export { queues, socketCookie } from './kernel/sockopt';
export type { Queues } from './kernel/sockopt';
export { snapshot } from './readings/snapshot';
export { SNAPSHOT_METRICS } from './model/snapshot';
export type { TcpSnapshot } from './model/snapshot';
export { diagnose } from './readings/diagnose';
export type { Diagnosis, DiagnoseOptions, Verdict } from './model/diagnose';
export { deadlines, explain } from './readings/deadlines';
export type { Deadlines, DeathWindow, GiveUpPrediction } from './model';
export { kernelSettings } from './kernel/sysctl';
export type { KernelSettings } from './kernel/sysctl';

// ---------------------------------------- know what was delivered; close well
export { delivery, acked, retain, retention, retainedUnacknowledged } from './policy/delivery';
export type { Delivery, AckedOptions, RetainOptions, Retention } from './policy/delivery';
export { gracefulClose, reset } from './policy/close';
export type { CloseResult, CloseOutcome, GracefulCloseOptions } from './policy/close';

// ------------------------------------------------- socket options, raw access
export { setOptions, getOptions } from './kernel/options';
export type { SocketOptions } from './kernel/options';
export { constants, getsockopt, setsockopt } from './kernel/sockopt';
export type { Target } from './kernel/fd';

// ---------------------------------------------------- deprecated root names
// Moved to `tcp-vitals/model`, or retired, in 0.2.0 (CHANGELOG.md). They
// stay for 0.2.x (removed in 0.3.0): readable from require() and importable
// by name from ESM and TypeScript, but not enumerable, so that
// Object.keys(require('tcp-vitals')) lists only the surface above. Plain
// assignments, not getters: Node's static scan of this CommonJS file must
// find them for ESM named imports.

/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const computeDeadlines = model.computeDeadlines;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const predictGiveUp = model.predictGiveUp;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const explainSettings = model.explainSettings;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const explainDeadlines = model.explainDeadlines;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const retriesBudgetMs = model.retriesBudgetMs;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const deathAfterFirstRetransmit = model.deathAfterFirstRetransmit;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const keepAliveDeath = model.keepAliveDeath;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const connectDeath = model.connectDeath;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const formatDuration = model.formatDuration;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const diagnoseReading = model.diagnoseReading;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const VERDICTS = model.VERDICTS;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model' (a failFast handle also carries its `options`). */
export const failFastOptions = model.failFastOptions;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const FAIL_FAST_MIN_TIMEOUT_MS = model.FAIL_FAST_MIN_TIMEOUT_MS;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const FAIL_FAST_MAX_TIMEOUT_MS = model.FAIL_FAST_MAX_TIMEOUT_MS;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export const snapshotOf = model.snapshotOf;
/**
 * retain()'s default `maxRetainedBytes` (16 MiB).
 * @deprecated Since 0.2.0, with no new home: the default is documented on the option.
 */
export const DEFAULT_MAX_RETAINED_BYTES = maxRetainedDefault;
/**
 * gracefulClose()'s default `timeout` (30 s).
 * @deprecated Since 0.2.0, with no new home: the default is documented on the option.
 */
export const DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS = gracefulCloseDefault;
/**
 * State numbers by name (`TCP_STATE.CLOSE === 7`).
 * @deprecated Since 0.2.0, with no new home (it served lib/'s hot paths):
 * use `TCP_STATES.indexOf(name)`, or compare the `tcpInfo(s).state` name.
 */
export const TCP_STATE = kernelTcpState;

/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export type DeadlineInput = model.DeadlineInput;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export type DeadlineOptions = model.DeadlineOptions;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export type DeadlineSettings = model.DeadlineSettings;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export type SettingsScenario = model.SettingsScenario;
/** @deprecated Since 0.2.0: import from 'tcp-vitals/model'. */ export type DiagnoseInfo = model.DiagnoseInfo;

const DEPRECATED_ROOT_NAMES = [
  'computeDeadlines', 'predictGiveUp', 'explainSettings', 'explainDeadlines', 'retriesBudgetMs', 'deathAfterFirstRetransmit',
  'keepAliveDeath', 'connectDeath', 'formatDuration', 'diagnoseReading', 'VERDICTS', 'failFastOptions',
  'FAIL_FAST_MIN_TIMEOUT_MS', 'FAIL_FAST_MAX_TIMEOUT_MS', 'snapshotOf', 'DEFAULT_MAX_RETAINED_BYTES',
  'DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS', 'TCP_STATE',
];
for (const name of DEPRECATED_ROOT_NAMES) Object.defineProperty(module.exports, name, { enumerable: false });
