/**
 * The pure step of failFast's watcher: what one reading of a socket means,
 * given what the earlier ones showed. The kernel (TCP_USER_TIMEOUT,
 * keepalive) handles the retransmission, keepalive and SYN paths; the step
 * covers what the kernel never reports: a connection the kernel already
 * closed while Node is not reading, and data that sits unsent with nothing in
 * flight. No I/O: unit tests feed synthetic readings.
 */
import type { DeathReason } from '../common/errors';
import { deathPath, ReasonReading, troubleOf } from './reason';

/** tcpi_state CLOSE. */
const CLOSE = 7;

/** What the earlier readings of one socket showed. */
export interface FailFastState {
  /** When unsent data with nothing in flight was first seen, ms; -1 if none. */
  unsentSince: number;
  /** tcpi_bytes_acked at the previous reading (-1 before the first). */
  bytesAcked: number;
  /** The path the previous reading pointed at; null while healthy. */
  hint: DeathReason | null;
}

/** One reading as the step needs it. */
export interface FailFastReading extends ReasonReading {
  /** tcpi_bytes_acked; -1 when not reported. */
  bytesAcked: number;
  /** The application ended its side (`socket.writableEnded`): a FIN was queued. */
  ended: boolean;
}

/** What the step decided: nothing, an orderly close to leave alone, or a death to report. */
export type FailFastVerdict =
  | null
  | { readonly kind: 'orderly' }
  | { readonly kind: 'dead'; readonly reason: DeathReason; readonly detail: string };

/** A fresh state. */
export function newFailFastState(): FailFastState {
  return { unsentSince: -1, bytesAcked: -1, hint: null };
}

const ORDERLY = Object.freeze({ kind: 'orderly' as const });

/**
 * Advances `state` by reading `r` taken at `now` (ms) for a failFast of
 * `timeout` ms. 'dead' when the kernel closed the connection (with the
 * reason the readings point to, 'kernel' when none), or when unsent data sat
 * behind nothing in flight, without progress, for `timeout` ('zero-window'
 * when the window is closed or probes are out, else 'unsent'); 'orderly' for
 * a close after our FIN with everything acknowledged.
 */
export function failFastStep(state: FailFastState, r: FailFastReading, now: number, timeout: number): FailFastVerdict {
  if (r.state === CLOSE) {
    const reason = deathPath(state.hint, r);
    // We sent our FIN and everything was acknowledged: an orderly close Node has not read to the end yet.
    if (reason === null && r.ended && r.sendQueue <= 0) return ORDERLY;
    return {
      kind: 'dead',
      reason: reason ?? 'kernel',
      detail: `the kernel closed the connection while Node was not reading${reason ? ` (last seen: ${reason})` : ''}`,
    };
  }
  const progressed = r.bytesAcked !== state.bytesAcked;
  state.bytesAcked = r.bytesAcked;
  state.hint = troubleOf(r);
  // Persist path: unsent data, nothing in flight, no progress.
  if (r.unsent > 0 && r.sendQueue - r.unsent <= 0) {
    if (state.unsentSince < 0 || progressed) state.unsentSince = now;
    if (now - state.unsentSince >= timeout) {
      const zeroWindow = r.sndWnd === 0 || r.probes > 0;
      return {
        kind: 'dead',
        reason: zeroWindow ? 'zero-window' : 'unsent',
        detail: zeroWindow
          ? `the peer's receive window stayed closed for ${timeout} ms with ${r.unsent} bytes unsent`
          : `${r.unsent} bytes sat unsent with nothing in flight for ${timeout} ms`,
      };
    }
  } else {
    state.unsentSince = -1;
  }
  return null;
}
