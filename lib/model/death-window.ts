/**
 * Expiry simulation: walks a sequence of kernel timer expiries, applies the
 * kernel's death test at each, and turns the result into a window
 * [earliest, latest] that accounts for timer slack.
 */
import { Lateness, timerLatenessMs } from './timer-slack';

const MAX_EXPIRIES = 4096;

/** A sequence of timer expiries and the kernel's death test at each. */
export interface ExpiryModel {
  /** Nominal length of the timer ending at expiry k (k = 1, 2, ...), ms. */
  interval(k: number): number;
  /** Length the kernel armed the timer with (for slack), when different from interval(k). */
  timerLength?(k: number): number;
  /** The kernel's elapsed time at the reference point ("now - retrans_stamp"), ms. */
  startElapsed: number;
  /** Dead when elapsed >= threshold (Infinity: no time test). */
  threshold: number;
  /** Timers are clamped to fire when the threshold runs out (TCP_USER_TIMEOUT). */
  clamp: boolean;
  /** First expiry index at which the time test applies. */
  timeTestFrom: number;
  /** Dead at expiry k when k - 1 + countBase >= countLimit (Infinity: no count test). */
  countLimit: number;
  countBase: number;
  hz: number | undefined;
}

interface SimResult { index: number; at: number; byCount: boolean }

function simulate(m: ExpiryModel, lateness: Lateness, stopAt?: number): SimResult {
  if (m.threshold === Infinity && m.countLimit === Infinity) return { index: Infinity, at: Infinity, byCount: false };
  const jiffy = m.hz ? 1000 / m.hz : 4;
  let elapsed = m.startElapsed;
  let at = 0;
  for (let k = 1; k <= MAX_EXPIRIES; k++) {
    let wait = m.interval(k);
    if (m.clamp) {
      const remaining = m.threshold - elapsed;
      wait = remaining <= 0 ? jiffy : Math.min(wait, remaining);
    }
    const length = Math.max(wait, m.timerLength?.(k) ?? 0);
    const late = lateness === 'none' ? 0 : timerLatenessMs(length, m.hz, lateness);
    at += wait + late;
    elapsed += wait + late;
    if (stopAt !== undefined) {
      if (k >= stopAt) return { index: k, at, byCount: false };
      continue;
    }
    const byCount = k - 1 + m.countBase >= m.countLimit;
    if (byCount || (k >= m.timeTestFrom && elapsed >= m.threshold)) return { index: k, at, byCount };
  }
  return { index: Infinity, at: Infinity, byCount: false };
}

/**
 * When the kernel declares death, ms after a reference point. `ms` is the
 * expected moment (typical timer lateness); the kernel's verdict lands in
 * [earliestMs, latestMs]. `ambiguous` is true when timer slack alone can move
 * the verdict from one expiry to the next (the window then spans both).
 * Infinity everywhere means the kernel never gives up on this path.
 */
export interface DeathWindow {
  /** Expected time of death, ms (Infinity: never). */
  ms: number;
  /** Earliest possible time of death, ms. */
  earliestMs: number;
  /** Latest possible time of death, ms. */
  latestMs: number;
  /** True when the verdict can fall on either of two expiries. */
  ambiguous: boolean;
  /** Index of the fatal timer expiry in the expected case (1 = the first timer after the reference). */
  expiry: number;
}


/** The window of a path on which the kernel never gives up. */
export const NEVER: DeathWindow = Object.freeze({ ms: Infinity, earliestMs: Infinity, latestMs: Infinity, ambiguous: false, expiry: Infinity });

/** The death window of an expiry sequence: expected, earliest and latest verdict. */
export function windowOf(m: ExpiryModel): DeathWindow {
  const nominal = simulate(m, 'none');
  if (nominal.at === Infinity) return NEVER;
  const slow = simulate(m, 'max');
  const typical = simulate(m, 'typical');
  // Earliest: the first expiry that can be fatal (found with maximal lateness), at its nominal time.
  const nominalAtFirstFatal = simulate(m, 'none', slow.index).at;
  const timeFloor = m.threshold === Infinity ? 0 : m.threshold - m.startElapsed;
  const earliestMs = slow.byCount ? nominalAtFirstFatal : Math.max(nominalAtFirstFatal, timeFloor);
  // Latest: the expiry that is fatal even without lateness, fired as late as possible.
  const latestMs = simulate(m, 'max', nominal.index).at;
  const ms = Math.min(latestMs, Math.max(earliestMs, typical.at));
  return { ms, earliestMs, latestMs, ambiguous: slow.index !== nominal.index, expiry: typical.index };
}

/** Moves a window later by another window (e.g. the delay before the kernel's clock starts). */
export function shift(w: DeathWindow, by: { ms: number; earliestMs: number; latestMs: number }): DeathWindow {
  if (w.ms === Infinity) return w;
  return { ...w, ms: w.ms + by.ms, earliestMs: w.earliestMs + by.earliestMs, latestMs: w.latestMs + by.latestMs };
}
