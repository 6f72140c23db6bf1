/**
 * The death-reason classifier: which path a connection is on (or died on),
 * from tcp_info and the send-queue ioctls. watch(), failFast() and the CLI
 * all name deaths through this file, so one death gets one label.
 */
import type { DeathReason } from '../common/errors';

/** tcpi_state of SYN_SENT and CLOSE (include/net/tcp_states.h). */
const SYN_SENT = 2;
const CLOSE = 7;

/** The fields of one reading the classifier looks at. */
export interface ReasonReading {
  /** tcpi_state number. */
  state: number;
  /** SIOCOUTQ, bytes (in flight + never sent). */
  sendQueue: number;
  /** SIOCOUTQNSD, bytes never sent. */
  unsent: number;
  /** tcpi_retransmits: consecutive RTO expiries. */
  retransmits: number;
  /** tcpi_probes: unanswered keepalive or zero-window probes. */
  probes: number;
  /** tcpi_snd_wnd, bytes; undefined when the kernel does not report it (< 5.4). */
  sndWnd?: number;
}

/**
 * What one reading shows to be wrong, or null when it shows nothing wrong:
 * 'retransmit' (a SYN or data being retransmitted), 'zero-window' (unsent
 * data behind a closed window), 'keepalive' (idle, probes unanswered).
 */
export function troubleOf(r: ReasonReading): DeathReason | null {
  const inFlight = r.sendQueue - r.unsent;
  if (r.state === SYN_SENT) return 'retransmit';
  if (inFlight > 0 && r.retransmits > 0) return 'retransmit';
  if (r.unsent > 0 && inFlight <= 0 && (r.sndWnd === 0 || r.probes > 0)) return 'zero-window';
  if (r.retransmits > 0) return 'retransmit';
  if (r.probes > 0 && r.sendQueue <= 0) return 'keepalive';
  return null;
}

/**
 * Why the kernel closed a connection (tcp_info state CLOSE): what the last
 * unhealthy reading before death showed (`hint`), else what the reading
 * taken at death shows (`final`; its state is read as CLOSE). Null when
 * nothing points anywhere: a reset, or an orderly close (callers decide).
 */
export function deathPath(hint: DeathReason | null, final?: ReasonReading | null): DeathReason | null {
  if (hint) return hint;
  return final ? troubleOf(final.state === CLOSE ? final : { ...final, state: CLOSE }) : null;
}

/** {@link deathPath}, with 'kernel' when nothing points anywhere. */
export function deathReason(hint: DeathReason | null, final?: ReasonReading | null): DeathReason {
  return deathPath(hint, final) ?? 'kernel';
}

/**
 * Why a connection ended in ETIMEDOUT (the kernel's own timeout, reported
 * by Node): as {@link deathPath}, and data still in flight in the last
 * reading means the retransmission path gave up. Null when nothing points
 * anywhere.
 */
export function timeoutPath(hint: DeathReason | null, last?: ReasonReading | null): DeathReason | null {
  const path = deathPath(hint, last);
  if (path || !last) return path;
  return last.sendQueue - last.unsent > 0 ? 'retransmit' : null;
}

/**
 * Why a connection whose peer is silent with data outstanding is dead (the
 * engine's own verdict, model/death-step): what the reading shows
 * ({@link troubleOf}), else 'unsent' for data never sent with nothing in
 * flight, else 'retransmit'.
 */
export function silentPath(r: ReasonReading): DeathReason {
  return troubleOf(r) ?? (r.unsent > 0 && r.sendQueue - r.unsent <= 0 ? 'unsent' : 'retransmit');
}

/** Numeric codes of the reasons, for state packed into typed arrays (0 = none). */
export const REASON_CODES: readonly (DeathReason | null)[] = [null, 'retransmit', 'keepalive', 'zero-window', 'unsent', 'kernel'];

/** The code of `reason` in {@link REASON_CODES}. */
export function reasonCode(reason: DeathReason | null): number {
  return reason === null ? 0 : REASON_CODES.indexOf(reason);
}

/** The subset of a CLI watch sample the classifier needs (snake_case, as printed). */
export interface SampleRecord {
  tcp_consecutive_timeouts: number;
  tcp_unacknowledged_bytes: number;
  tcp_unsent_bytes: number;
  tcp_send_window_bytes?: number | null;
  tcp_probes: number;
}

/** What the last printed sample points to when the kernel timed the connection out without saying why. */
export function reasonFromSample(s: SampleRecord | undefined): string | undefined {
  if (!s) return undefined;
  const reading: ReasonReading = {
    state: CLOSE,
    sendQueue: s.tcp_unacknowledged_bytes + s.tcp_unsent_bytes,
    unsent: s.tcp_unsent_bytes,
    retransmits: s.tcp_consecutive_timeouts,
    probes: s.tcp_probes,
    sndWnd: s.tcp_send_window_bytes ?? undefined,
  };
  return timeoutPath(null, reading) ?? undefined;
}
