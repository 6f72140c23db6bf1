/**
 * The one pure death step: what one reading of a socket with data outstanding
 * means, given the earlier ones. The engine's armed poller runs it (protect()
 * and failFast() alike) until everything sent is acknowledged; the kernel's
 * own verdicts are named by model/reason.ts with the `hint` it leaves. No I/O.
 */
import type { DeathReason } from '../common/errors';
import { ReasonReading, silentPath, troubleOf } from './reason';

/** tcpi_state of SYN_SENT and CLOSE (include/net/tcp_states.h). */
const SYN_SENT = 2;
const CLOSE = 7;

/** What the earlier readings of one socket showed. */
export interface DeathState {
  /** When unsent data with nothing in flight was first seen, ms; -1 if none. */
  unsentSince: number;
  /** tcpi_bytes_acked at the previous reading (-1 before the first). */
  bytesAcked: number;
  /** The path the previous reading pointed at; null while healthy. */
  hint: DeathReason | null;
}

/** One reading as the step needs it. */
export interface DeathReading extends ReasonReading {
  /** tcpi_bytes_acked; -1 when not reported. */
  bytesAcked: number;
  /** ms since the peer was last heard from (an ACK or data): min(tcpi_last_ack_recv, tcpi_last_data_recv). */
  silentMs: number;
}

/** Keep polling, stop (nothing outstanding, or closed: the deathwatch reports that), or a death. */
export type DeathVerdict =
  | { readonly kind: 'watching' }
  | { readonly kind: 'done' }
  | { readonly kind: 'dead'; readonly reason: DeathReason; readonly detail: string };

const WATCHING = Object.freeze({ kind: 'watching' as const });
const DONE = Object.freeze({ kind: 'done' as const });

const dead = (reason: DeathReason, detail: string): DeathVerdict => ({ kind: 'dead', reason, detail });

/** A fresh state. */
export function newDeathState(): DeathState {
  return { unsentSince: -1, bytesAcked: -1, hint: null };
}

/**
 * Advances `state` by reading `r` taken at `now` (ms) for a timeout of
 * `timeout` ms. 'dead' when the peer has been silent for `timeout` with data
 * outstanding ('retransmit'; 'zero-window' / 'unsent' when nothing is in
 * flight), or when unsent data sat behind nothing in flight, without
 * progress, for `timeout` (a live peer keeping its window closed answers
 * probes, so it is not silent). A SYN is left to the kernel's user timeout.
 */
export function deathStep(state: DeathState, r: DeathReading, now: number, timeout: number): DeathVerdict {
  if (r.state === CLOSE) return DONE;
  state.hint = troubleOf(r);
  if (r.state === SYN_SENT) return WATCHING;
  const progressed = r.bytesAcked !== state.bytesAcked;
  state.bytesAcked = r.bytesAcked;
  if (r.sendQueue <= 0) { state.unsentSince = -1; return DONE; }
  const inFlight = r.sendQueue - r.unsent;
  if (r.silentMs >= timeout) {
    return dead(silentPath(r), `no ACK or data from the peer for ${r.silentMs} ms with ${r.sendQueue} bytes outstanding`);
  }
  // Persist path: unsent data, nothing in flight, no progress.
  if (r.unsent > 0 && inFlight <= 0) {
    if (state.unsentSince < 0 || progressed) state.unsentSince = now;
    if (now - state.unsentSince >= timeout) {
      const reason = silentPath(r);
      return dead(reason, reason === 'zero-window'
        ? `the peer's receive window stayed closed for ${timeout} ms with ${r.unsent} bytes unsent`
        : `${r.unsent} bytes sat unsent with nothing in flight for ${timeout} ms`);
    }
  } else {
    state.unsentSince = -1;
  }
  return WATCHING;
}
