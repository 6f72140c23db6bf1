/**
 * The contract of runtime/scheduler's one poller: its limits, what a
 * subscriber or a periodic task implements, what registering returns, and the
 * options a Scheduler is built with (re-exported by scheduler.ts).
 */
import type { BatchBinding, Sample } from '../kernel/batch';

/** Smallest allowed polling interval, ms. */
export const MIN_INTERVAL_MS = 10;
/**
 * Most sockets read in one synchronous slice; the rest of a tick continues on
 * setImmediate so 5,000 due sockets never block the event loop in one go.
 */
export const MAX_SLICE = 512;
/**
 * Entries due within this long of a tick are read in it (capped at a quarter
 * of their interval): keeps sockets with the same interval in one batch
 * instead of drifting into one tick each.
 */
export const COALESCE_MS = 25;

/** What a periodic task implements (Scheduler.addTask): no fd, no read, the same timer. */
export interface Task {
  /** Called once per due tick. */
  run(now: number): void;
  /** Checked before each run; false drops the task. */
  valid?(): boolean;
}

/** Construction options of a Scheduler (all optional; tests inject their own). */
export interface SchedulerOptions {
  /** The batch reader; default the addon. */
  binding?: BatchBinding;
  /** Monotonic clock, ms; default performance.now. */
  clock?: () => number;
  /**
   * Where an error thrown by a subscriber, a task or a `valid()` goes; default:
   * rethrown on process.nextTick (an uncaught exception, as from any listener).
   * Polling goes on for everyone else either way.
   */
  onError?: (err: unknown) => void;
}

/** What a subscriber implements. */
export interface Subscriber {
  /** Called once per due tick with this socket's record. `now` is Date.now()-like ms (performance.now based). */
  onSample(sample: Sample, now: number): void;
  /**
   * Checked right before each read; return false when the fd no longer
   * belongs to the subscriber (socket destroyed): the entry is dropped
   * without reading the fd.
   */
  valid?(): boolean;
}

/** Handle returned by Scheduler.add. */
export interface Registration {
  /** Stops polling this entry (idempotent). */
  remove(): void;
  /** Changes the polling interval, ms. */
  setInterval(ms: number): void;
  /** Makes the entry due on the next tick, scheduled as soon as possible. */
  pokeSoon(): void;
}
