/**
 * The pure step of watch(): one socket's state, one reading, now -> which
 * events to emit. No I/O, no allocation: the state is one slot of a
 * Float64Array (every watched socket's state packed side by side), the
 * actions a bit set. The controller (policy/watch) turns the bits into
 * events; unit tests feed synthetic readings.
 */
import { REASON_CODES, reasonCode, troubleOf, deathReason } from './reason';
import type { DeathReason } from '../common/errors';

/** tcpi_state CLOSE. */
const CLOSE = 7;

/** Action bits returned by {@link watchStep}. */
export const WATCH_ACTION = Object.freeze({
  /** An RTO episode started, or the backoff grew. */
  retransmit: 1,
  /** Data outstanding and no ACK for longer than stallAfter (once per episode). */
  stall: 2,
  /** The trouble is over: ACKs flow again. */
  recovered: 4,
  /** A periodic sample is due. */
  sample: 8,
  /** The kernel closed the connection. */
  dead: 16,
});

/** Offsets of the fields of one socket's state inside its slot. */
export const WATCH_STATE = Object.freeze({
  /** tcpi_retransmits at the previous reading. */
  lastRetransmits: 0,
  /** tcpi_total_rto_time while no episode runs (6.7+), -1 unknown. */
  rtoTimeBaseline: 1,
  /** Time of the first bad reading, -1 = healthy. */
  troubleSince: 2,
  /** Highest tcpi_retransmits during the trouble. */
  maxRetransmits: 3,
  /** 1 once the stall of this episode was reported. */
  stallReported: 4,
  /** Time of the last sample event. */
  lastSampleAt: 5,
  /** {@link reasonCode} of what the previous reading showed wrong (0 = nothing). */
  hint: 6,
  /** Time data was first seen outstanding, -1 = none. */
  outstandingSince: 7,
  /** How long the trouble that just ended lasted, ms (set with the recovered bit). */
  troubleMs: 8,
});

/** Numbers per socket in the state array. */
export const WATCH_STATE_SIZE = 9;

/** Fills slot `o` of `state` with a healthy, fresh state. */
export function resetWatchState(state: Float64Array, o: number): void {
  state.fill(0, o, o + WATCH_STATE_SIZE);
  state[o + WATCH_STATE.rtoTimeBaseline] = -1;
  state[o + WATCH_STATE.troubleSince] = -1;
  state[o + WATCH_STATE.lastSampleAt] = -Infinity;
  state[o + WATCH_STATE.outstandingSince] = -1;
}

/** A fresh one-socket state (for tests and single watchers). */
export function newWatchState(): Float64Array {
  const s = new Float64Array(WATCH_STATE_SIZE);
  resetWatchState(s, 0);
  return s;
}

/** The fields of one reading the step looks at (reused, mutable: filled from each batch record). */
export interface WatchReading {
  /** tcpi_state number. */
  state: number;
  /** SIOCOUTQ, bytes. */
  sendQueue: number;
  /** SIOCOUTQNSD, bytes. */
  unsent: number;
  /** tcpi_retransmits. */
  retransmits: number;
  /** tcpi_probes. */
  probes: number;
  /** tcpi_unacked, segments. */
  unacked: number;
  /** tcpi_last_ack_recv, ms ago. */
  lastAckRecv: number;
  /** tcpi_total_rto_time, ms; -1 when the kernel does not report it (< 6.7). */
  totalRtoTime: number;
  /** tcpi_snd_wnd, bytes; undefined when not reported (< 5.4). */
  sndWnd: number | undefined;
}

/** Settings of one watch, ms. */
export interface WatchStepSettings {
  stallAfter: number;
  /** 0 = no sample events. */
  sampleEvery: number;
  /** The polling interval (min of interval and sampleEvery). */
  pollEvery: number;
}

/**
 * Advances slot `o` of `state` by reading `r` taken at `now` (ms) and returns
 * the {@link WATCH_ACTION} bits to act on. Every counter is updated before
 * the bits are returned, so an event handler that throws can never make the
 * same event come again. `dead` comes alone: the watch is over.
 */
export function watchStep(state: Float64Array, o: number, r: WatchReading, now: number, cfg: WatchStepSettings): number {
  if (r.state === CLOSE) return WATCH_ACTION.dead;
  const S = WATCH_STATE;
  const retransmits = r.retransmits;
  const outstanding = r.sendQueue - r.unsent > 0 || r.unacked > 0;
  // An ACK received long ago does not make a fresh write a stall: count from when data became outstanding.
  if (!outstanding) state[o + S.outstandingSince] = -1;
  else if (state[o + S.outstandingSince] < 0) state[o + S.outstandingSince] = now;
  const stalled = outstanding && Math.min(r.lastAckRecv, now - state[o + S.outstandingSince]) > cfg.stallAfter;
  state[o + S.hint] = reasonCode(troubleOf(r));
  if (retransmits === 0 && r.totalRtoTime >= 0) state[o + S.rtoTimeBaseline] = r.totalRtoTime;
  if (retransmits > 0 || stalled) {
    if (state[o + S.troubleSince] < 0) { state[o + S.troubleSince] = now; state[o + S.maxRetransmits] = 0; }
    if (retransmits > state[o + S.maxRetransmits]) state[o + S.maxRetransmits] = retransmits;
  }
  let actions = 0;
  if (retransmits > state[o + S.lastRetransmits]) actions |= WATCH_ACTION.retransmit;
  state[o + S.lastRetransmits] = retransmits;
  if (stalled && state[o + S.stallReported] === 0) {
    state[o + S.stallReported] = 1;
    actions |= WATCH_ACTION.stall;
  }
  if (state[o + S.troubleSince] >= 0 && retransmits === 0 && !stalled) {
    state[o + S.troubleMs] = now - state[o + S.troubleSince];
    state[o + S.troubleSince] = -1;
    state[o + S.stallReported] = 0;
    actions |= WATCH_ACTION.recovered;
  }
  if (cfg.sampleEvery > 0 && now - state[o + S.lastSampleAt] >= cfg.sampleEvery - cfg.pollEvery / 2) {
    state[o + S.lastSampleAt] = now;
    actions |= WATCH_ACTION.sample;
  }
  return actions;
}

/** Why the socket in slot `o` died, given the reading that showed CLOSE. */
export function watchDeathReason(state: Float64Array, o: number, final: WatchReading): DeathReason {
  return deathReason(REASON_CODES[state[o + WATCH_STATE.hint]] ?? null, final);
}

/** tcpi_total_rto_time spent in the current RTO episode, ms; undefined when unknown. */
export function episodeRtoTime(state: Float64Array, o: number, totalRtoTime: number | undefined): number | undefined {
  const base = state[o + WATCH_STATE.rtoTimeBaseline];
  return base >= 0 && totalRtoTime !== undefined ? totalRtoTime - base : undefined;
}
