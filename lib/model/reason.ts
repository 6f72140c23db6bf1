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
 * Why the kernel killed a connection: what the last unhealthy reading before
 * death showed (`hint`), else what the reading taken at or after death shows
 * (`final`; its state is not trusted, the kernel reports CLOSE by then). Data
 * still in flight at death means the retransmission path gave up. Null when
 * nothing points anywhere (callers say 'kernel', or treat an orderly close).
 */
export function deathPath(hint: DeathReason | null, final?: ReasonReading | null): DeathReason | null {
  if (hint) return hint;
  if (!final) return null;
  const closed = final.state === CLOSE ? final : { ...final, state: CLOSE };
  return troubleOf(closed) ?? (closed.sendQueue - closed.unsent > 0 ? 'retransmit' : null);
}

/** {@link deathPath}, with 'kernel' when nothing points anywhere. */
export function deathReason(hint: DeathReason | null, final?: ReasonReading | null): DeathReason {
  return deathPath(hint, final) ?? 'kernel';
}

/** The subset of a CLI watch sample the classifier needs (snake_case, as printed). */
export interface SampleRecord {
  tcp_consecutive_timeouts: number;
  tcp_unacknowledged_bytes: number;
  tcp_unsent_bytes: number;
  tcp_send_window_bytes?: number | null;
  tcp_probes: number;
}

/** What the last printed sample points to when the kernel killed the connection without saying why. */
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
  return deathPath(null, reading) ?? undefined;
}
