/**
 * tcp-vitals: see and steer what the Linux kernel does with your TCP
 * connections.
 */
export { constants, getsockopt, setsockopt, queues, socketCookie } from './sockopt';
export type { Queues } from './sockopt';
export { tcpInfo, decodeTcpInfo, TCP_STATES, TCP_STATE, TCPI_OPT, CA_STATES } from './tcpinfo';
export type { TcpInfo, TcpState } from './tcpinfo';
export { setOptions, getOptions } from './options';
export type { SocketOptions } from './options';
export type { Target } from './fd';
export type { SystemError, PeerGoneError, DeathReason } from './errors';
export { kernelSettings } from './sysctl';
export type { KernelSettings } from './sysctl';
export {
  deadlines, explain, computeDeadlines, predictGiveUp, explainSettings, explainDeadlines, retriesBudgetMs,
  deathAfterFirstRetransmit, keepAliveDeath, connectDeath, formatDuration,
} from './deadlines';
export type {
  Deadlines, DeathWindow, DeadlineInput, DeadlineOptions, DeadlineSettings, GiveUpPrediction, SettingsScenario,
} from './deadlines';
export { watch, WATCH_EVENTS } from './watch';
export type { Watcher, WatchOptions, RetransmitEvent, StallEvent, RecoveredEvent, DeadEvent, SampleEvent } from './watch';
export { failFast, failFastOptions, FAIL_FAST_MIN_TIMEOUT_MS, FAIL_FAST_MAX_TIMEOUT_MS } from './failfast';
export type { FailFastOptions, FailFastHandle } from './failfast';
export { snapshot, snapshotOf, SNAPSHOT_METRICS } from './snapshot';
export type { TcpSnapshot } from './snapshot';
export { failFastAgent, FailFastAgent, FailFastHttpsAgent, failFastConnector } from './agent';
export type { UndiciConnector } from './agent';
export { delivery, acked, retain, retention, retainedUnacknowledged, DEFAULT_MAX_RETAINED_BYTES } from './delivery';
export type { Delivery, AckedOptions, AckAbortError, RetainOptions, Retention } from './delivery';
export { gracefulClose, reset, DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS } from './close';
export type { CloseResult, CloseOutcome, GracefulCloseOptions } from './close';
export { listenQueue, listenCounters, watchServer, SERVER_EVENTS } from './server';
export type { ListenQueue, ListenCounters, QueueEvent, OverflowEvent, WatchServerOptions, ServerWatch } from './server';
