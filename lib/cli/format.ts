/** Plain-words formatting of durations and sizes for the CLI. */

/**
 * A duration in ms as people read it: "240 ms", "6.6 s", "15.4 min (924.6 s)",
 * "2.2 h (7,875 s)", "never" for Infinity.
 */
export function formatDuration(ms: number): string {
  if (ms === Infinity) return 'never';
  if (!Number.isFinite(ms)) return 'unknown';
  const s = ms / 1000;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (s < 100) return `${trim(s)} s`;
  if (s < 3600) return `${trim(s / 60)} min (${trim(s)} s)`;
  return `${trim(s / 3600)} h (${Math.round(s).toLocaleString('en-US')} s)`;
}

/** A short duration for live displays: "0.21 s", "6.6 s", "15.4 min". */
export function formatShortDuration(ms: number): string {
  if (ms === Infinity) return 'never';
  if (!Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 100_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** Bytes with thousands separators: "1,656 B". */
export function formatBytes(n: number): string {
  return `${n.toLocaleString('en-US')} B`;
}

function trim(x: number): string {
  return (Math.round(x * 10) / 10).toFixed(1).replace(/\.0$/, '');
}
