/**
 * `tcp-vitals/model`: the pure model of what the Linux kernel does with a
 * TCP connection, with no socket and no native addon. Readings in, numbers
 * and verdicts out: when a dead peer is noticed on each path (retransmission,
 * keepalive, zero window, connect), what failFast sets for a timeout, one
 * reading as metrics, and whether it points at the network or the peer.
 *
 * Loading this entry point never loads the addon, so it works where the
 * addon cannot (another OS, a browser bundle, a worker without the
 * prebuild). The socket-reading counterparts (`deadlines`, `explain`,
 * `snapshot`, `diagnose`, `failFast`) are in the package root.
 *
 * This file is the model's one public face; lib/ code imports the model's
 * modules directly, never this index.
 */

// Retransmission budget (tcp_model_timeout) and the kernel's RTO constants.
export { TCP_RTO_MIN_MS, TCP_TIMEOUT_INIT_MS, TCP_RTO_MAX_MS, retriesBudgetMs } from './budget';
// How late a kernel timer may fire (one timer-wheel bucket).
export { timerLatenessMs } from './timer-slack';
// One path's death time as a window; per path.
export type { DeathWindow } from './death-window';
export { deathAfterFirstRetransmit, firstRetransmitDelay, keepAliveDeath, connectDeath } from './paths';
export type { RetransmitParams, KeepAliveParams, ConnectParams } from './paths';
// Every path at once, from sysctls + socket options (+ tcp_info).
export { computeDeadlines } from './compute';
export type { DeadlineOptions, DeadlineInfo, DeadlineSettings, DeadlineInput, Deadlines } from './compute';
// When a connection that is retransmitting now will give up.
export { predictGiveUp } from './give-up';
export type { GiveUpFields, GiveUpPrediction } from './give-up';
// The same numbers in plain words.
export { formatDuration } from './format';
export { NODE_KEEPALIVE_INTERVAL_MS, NODE_KEEPALIVE_COUNT, explainDeadlines, explainSettings } from './explain';
export type { SettingsScenario } from './explain';
// The kernel options failFast(socket, { timeout }) sets.
export { failFastOptions, FAIL_FAST_MIN_TIMEOUT_MS, FAIL_FAST_MAX_TIMEOUT_MS } from './failfast-settings';
// One reading as flat, metrics-ready gauges and counters.
export { snapshotOf, SNAPSHOT_METRICS } from './snapshot';
export type { TcpSnapshot } from './snapshot';
// Is it the network or the peer? One reading → verdict + evidence.
export { diagnoseReading, VERDICTS } from './diagnose';
export type { Diagnosis, DiagnoseInfo, DiagnoseOptions, Verdict } from './diagnose';
