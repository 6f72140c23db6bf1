/** Histogram bucket boundaries shared by tcp-vitals/prometheus and tcp-vitals/otel, and their check. */
import { invalidArgType, invalidArgValue } from '../common/errors';

/** Default rtt buckets, seconds (100 µs … 2.5 s). */
export const RTT_BUCKETS_SECONDS: readonly number[] = Object.freeze([0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
/** Default buckets for the time from a peer's last sign of life to the detection of its death, seconds. */
export const DETECTION_BUCKETS_SECONDS: readonly number[] = Object.freeze([0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 900]);
/** Default buckets of the handshake and connection duration histograms, seconds (500 µs … 1 h). */
export const DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600]);

/** Histogram bounds: an array of finite numbers in strictly increasing order (a copy), or `fallback`. */
export function checkBuckets(name: string, value: unknown, fallback: readonly number[]): number[] {
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value)) throw invalidArgType(name, 'an array of numbers', value);
  const out = [...value] as unknown[];
  out.forEach((b, i) => {
    if (typeof b !== 'number' || !Number.isFinite(b) || (i > 0 && b <= (out[i - 1] as number))) {
      throw invalidArgValue(name, value, 'must be finite numbers in increasing order');
    }
  });
  return out as number[];
}
