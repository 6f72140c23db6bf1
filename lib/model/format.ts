/**
 * Durations and death windows as text for people: the one place that turns
 * milliseconds into words (the API's formatDuration, doctor, demo and watch).
 */
import type { DeathWindow } from './death-window';

/** Formats a duration for people: "850 ms", "6.4 s", "15.5 min", "2.0 h", "never". */
export function formatDuration(ms: number): string {
  if (ms === Infinity) return 'never';
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 100_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/**
 * A short, fixed-precision duration for live displays (columns that update
 * every tick): "0.21 s", "6.6 s", "15.4 min", "2.0 h", "never"; "?" when unknown.
 */
export function formatShortDuration(ms: number): string {
  if (ms === Infinity) return 'never';
  if (!Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 100_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A death window as text: "6.40 s (6.20 s .. 14.2 s)", flagged when timer slack makes it ambiguous. */
export function windowText(w: DeathWindow): string {
  if (w.ms === Infinity) return 'never';
  const range = `${formatDuration(w.earliestMs)} .. ${formatDuration(w.latestMs)}`;
  return w.ambiguous
    ? `${formatDuration(w.ms)} expected (timer slack decides between two expiries: ${range})`
    : `${formatDuration(w.ms)} (${range})`;
}
