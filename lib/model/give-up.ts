/**
 * predictGiveUp(): when the kernel will give up on a connection that is
 * retransmitting now.
 */
import type { TcpInfo } from '../kernel/tcpinfo';
import { retriesBudgetMs, rtoFloorMs, TCP_RTO_MIN_MS } from './budget';
import type { DeadlineOptions, DeadlineSettings } from './compute';
import { ExpiryModel, windowOf } from './death-window';
import { Lateness, timerLatenessMs } from './timer-slack';
import { ownCopy, validateObject } from '../common/validate';

/** tcp_info fields of a connection in an RTO episode (units as in TcpInfo). */
export type GiveUpFields = Pick<TcpInfo, 'rto' | 'backoff' | 'retransmits'>
  & Partial<Pick<TcpInfo, 'lastDataSent' | 'lastAckRecv' | 'totalRtoTime'>>;

/** The kernel's expected give-up of a connection retransmitting now, ms from now. */
export interface GiveUpPrediction {
  /** Expected give-up, ms from now (Infinity: never). */
  ms: number;
  earliestMs: number;
  latestMs: number;
  /** Timer slack can move the verdict to another expiry. */
  ambiguous: boolean;
  /** Time since the first retransmission of this episode (the kernel's clock), ms. */
  elapsedMs: number;
  /** What the kernel counts against: the user timeout or the tcp_retries2 budget, ms. */
  budgetMs: number;
  /** Which limit decides. */
  decidedBy: 'userTimeout' | 'retries2';
}

/**
 * For a connection in an RTO episode now (tcpi_retransmits > 0): when the
 * kernel will declare it dead, ms from now; null when not retransmitting.
 * The kernel's clock (time since the first retransmission) comes from
 * `episodeElapsedMs` when the caller measured it (e.g. from the growth of
 * tcpi_total_rto_time, 6.7+), else it is rebuilt from the expiries so far
 * (retransmits, backoff, rto) plus tcpi_last_data_sent (time since the last
 * retransmission).
 */
export function predictGiveUp(
  fields: GiveUpFields,
  settings: DeadlineSettings,
  options: Pick<DeadlineOptions, 'userTimeout' | 'rtoMax'> = {},
  episodeElapsedMs?: number,
): GiveUpPrediction | null {
  validateObject('fields', fields);
  validateObject('settings', settings);
  // Own properties only: an inherited key is never an input.
  fields = ownCopy(fields);
  settings = ownCopy(settings);
  options = options === null || typeof options !== 'object' ? {} : ownCopy(options);
  const retransmits = fields.retransmits;
  if (!(retransmits > 0)) return null;
  const rtoMax = options.rtoMax ?? settings.rtoMaxMs;
  const rtoNow = Math.min(fields.rto / 1000, rtoMax);
  const base = Math.min(Math.max(rtoFloorMs(settings.rtoMinMs, rtoMax, settings.timerHz), rtoNow / 2 ** (fields.backoff ?? 0)), rtoMax);
  const sinceLast = Math.min(fields.lastDataSent ?? 0, rtoNow);
  const u = options.userTimeout ?? 0;
  const budget = u > 0 ? u : retriesBudgetMs(settings.retries2, TCP_RTO_MIN_MS, Math.max(rtoMax, TCP_RTO_MIN_MS));
  // The kernel's clock: measured by the caller, or rebuilt from the expiries so
  // far, each of which fired somewhere between on time and one bucket late.
  const rebuilt = (lateness: Lateness): number => {
    if (episodeElapsedMs !== undefined) return episodeElapsedMs;
    let e = sinceLast;
    for (let k = 1; k < retransmits; k++) {
      const len = Math.min(base * 2 ** k, rtoMax);
      e += len + (lateness === 'none' ? 0 : timerLatenessMs(len, settings.timerHz, lateness));
    }
    return e;
  };
  const model = (startElapsed: number): ExpiryModel => ({
    interval: (k) => (k === 1 ? Math.max(0, rtoNow - sinceLast) : Math.min(rtoNow * 2 ** (k - 1), rtoMax)),
    timerLength: (k) => (k === 1 ? rtoNow : 0),
    startElapsed,
    threshold: budget,
    clamp: u > 0,
    timeTestFrom: 1,
    countLimit: Infinity,
    countBase: 0,
    hz: settings.timerHz,
  });
  const elapsed = rebuilt('typical');
  const typical = windowOf(model(elapsed));
  const soonest = windowOf(model(rebuilt('max')));
  const slowest = windowOf(model(rebuilt('none')));
  const w = {
    ms: typical.ms,
    earliestMs: Math.min(typical.earliestMs, soonest.earliestMs),
    latestMs: Math.max(typical.latestMs, slowest.latestMs),
    ambiguous: typical.ambiguous || soonest.expiry !== slowest.expiry,
  };
  return {
    ms: w.ms, earliestMs: w.earliestMs, latestMs: w.latestMs, ambiguous: w.ambiguous,
    elapsedMs: elapsed, budgetMs: budget, decidedBy: u > 0 ? 'userTimeout' : 'retries2',
  };
}
