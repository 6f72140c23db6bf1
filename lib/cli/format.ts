/** Formatting for the CLI: durations come from the model's one formatter; sizes are here. */
export { formatDuration, formatShortDuration } from '../model/format';

/** Bytes with thousands separators: "1,656 B". */
export function formatBytes(n: number): string {
  return `${n.toLocaleString('en-US')} B`;
}
