/**
 * tcp-vitals: see and steer what the Linux kernel does with your TCP
 * connections.
 */
export { constants, getsockopt, setsockopt, queues, socketCookie } from './kernel/sockopt';
export type { Queues } from './kernel/sockopt';
export { tcpInfo, decodeTcpInfo, TCP_STATES, TCP_STATE, TCPI_OPT, CA_STATES } from './kernel/tcpinfo';
export type { TcpInfo, TcpState } from './kernel/tcpinfo';
export { setOptions, getOptions } from './kernel/options';
export type { SocketOptions } from './kernel/options';
export type { Target } from './kernel/fd';
export { PeerGoneError, AckAbortError, isPeerGoneError, isAckAbortError } from './common/errors';
export type { SystemError, DeathReason } from './common/errors';
export { kernelSettings } from './kernel/sysctl';
export type { KernelSettings } from './kernel/sysctl';
export {
  deadlines, explain, computeDeadlines, predictGiveUp, explainSettings, explainDeadlines, retriesBudgetMs,
  deathAfterFirstRetransmit, keepAliveDeath, connectDeath, formatDuration,
} from './policy/deadlines';
export type {
  Deadlines, DeathWindow, DeadlineInput, DeadlineOptions, DeadlineSettings, GiveUpPrediction, SettingsScenario,
} from './policy/deadlines';
export { watch, WATCH_EVENTS } from './policy/watch';
export type {
  Watcher, WatchOptions, WatchEvents, SocketWatchEvents, RetransmitEvent, StallEvent, RecoveredEvent, DeadEvent, SampleEvent,
} from './policy/watch';
export { failFast, failFastOptions, FAIL_FAST_MIN_TIMEOUT_MS, FAIL_FAST_MAX_TIMEOUT_MS } from './policy/failfast';
export type { FailFastOptions, FailFastHandle } from './policy/failfast';
export { snapshot, snapshotOf, SNAPSHOT_METRICS } from './policy/snapshot';
export type { TcpSnapshot } from './policy/snapshot';
export { failFastAgent, FailFastAgent, FailFastHttpsAgent, failFastConnector } from './integrations/agent';
export type { UndiciConnector } from './integrations/agent';
export { delivery, acked, retain, retention, retainedUnacknowledged, DEFAULT_MAX_RETAINED_BYTES } from './policy/delivery';
export type { Delivery, AckedOptions, RetainOptions, Retention } from './policy/delivery';
export { gracefulClose, reset, DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS } from './policy/close';
export type { CloseResult, CloseOutcome, GracefulCloseOptions } from './policy/close';
export { listenQueue, listenCounters, watchServer, SERVER_EVENTS } from './policy/server';
export { requestVitals } from './integrations/request-vitals';
export type { RequestVitals } from './integrations/request-vitals';
export { diagnose, diagnoseReading, VERDICTS } from './policy/diagnose';
export type { Diagnosis, DiagnoseInfo, DiagnoseOptions, Verdict } from './policy/diagnose';
export type {
  ListenQueue, ListenCounters, QueueEvent, OverflowEvent, WatchServerOptions, ServerWatch, ServerWatchEvents, ServerSocketEvents,
} from './policy/server';
export { protect } from './policy/protect';
export type { ProtectHandle, ProtectOptions, ProtectStats, ConnectionInfo, MatchResult, ScopeOptions } from './policy/protect';
export { misconfigurationAlarms, alarmsRaised, ALARM_CODES } from './policy/alarms';
export type { Alarm, AlarmCode, Alarms } from './policy/alarms';
