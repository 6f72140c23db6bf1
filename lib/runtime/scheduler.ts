/**
 * One shared poller for every watched socket: a single unref'd timer, one
 * preallocated record buffer, one native batch read per tick. Subscribers
 * get a reusable {@link Sample} view (valid only during the callback), so the
 * steady state allocates nothing per socket per tick.
 */
import { BatchReader } from '../kernel/batch';
import {
  COALESCE_MS, MAX_SLICE, MIN_INTERVAL_MS, Registration, SchedulerOptions, Subscriber, Task,
} from './scheduler-contract';

export { RECORD_STRIDE, Sample, readOne } from '../kernel/batch';
export type { BatchBinding } from '../kernel/batch';
export { COALESCE_MS, MAX_SLICE, MIN_INTERVAL_MS } from './scheduler-contract';
export type { Registration, SchedulerOptions, Subscriber, Task } from './scheduler-contract';

interface Entry {
  /** -1 for a task. */
  fd: number;
  cookie: bigint;
  interval: number;
  nextDue: number;
  sub: Subscriber | null;
  task: Task | null;
  removed: boolean;
}

const rethrow = (err: unknown): void => { process.nextTick(() => { throw err; }); };

/**
 * The shared poller. Use {@link scheduler}; tests make their own instance
 * with an injected binding and clock.
 */
export class Scheduler {
  private readonly reader: BatchReader;
  private readonly now: () => number;
  private readonly onError: (err: unknown) => void;
  private tasks: Entry[] = [];
  private entries: Entry[] = [];
  private due: Entry[] = [];
  private picked: Entry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private continuation: NodeJS.Immediate | null = null;
  private timerAt = Infinity;
  private dirty = false;
  /** Ticks run (for tests and benchmarks). */
  ticks = 0;

  constructor(options: SchedulerOptions = {}) {
    this.reader = new BatchReader(options.binding);
    this.now = options.clock ?? (() => performance.now());
    this.onError = options.onError ?? rethrow;
  }

  /** Number of live entries. */
  get size(): number {
    let n = 0;
    for (const e of this.entries) if (!e.removed) n++;
    return n;
  }

  /**
   * Polls `fd` every `intervalMs`. `cookie` (the socket's SO_COOKIE) is verified
   * natively on every read (a reused fd yields errno ESTALE, never the other
   * socket's data); 0n is never read (errno EBADF).
   */
  add(fd: number, cookie: bigint, intervalMs: number, sub: Subscriber): Registration {
    return this.register({ fd, cookie, interval: 0, nextDue: 0, sub, task: null, removed: false }, intervalMs);
  }

  /**
   * Runs `task` every `intervalMs` on the same timer (for pollers that read
   * something other than a socket, e.g. watchServer's accept queues).
   */
  addTask(intervalMs: number, task: Task): Registration {
    return this.register({ fd: -1, cookie: 0n, interval: 0, nextDue: 0, sub: null, task, removed: false }, intervalMs);
  }

  private register(entry: Entry, intervalMs: number): Registration {
    const now = this.now;
    entry.interval = Math.max(MIN_INTERVAL_MS, intervalMs);
    entry.nextDue = now() + entry.interval;
    this.entries.push(entry);
    this.arm(entry.nextDue);
    return {
      remove: () => {
        if (!entry.removed) { entry.removed = true; this.dirty = true; }
      },
      setInterval: (ms: number) => {
        entry.interval = Math.max(MIN_INTERVAL_MS, ms);
        entry.nextDue = Math.min(entry.nextDue, now() + entry.interval);
        this.arm(entry.nextDue);
      },
      pokeSoon: () => {
        entry.nextDue = now();
        this.arm(entry.nextDue);
      },
    };
  }

  private arm(at: number): void {
    if (at >= this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.tick, Math.max(0, at - this.now()));
    this.timer.unref();
  }

  private compact(): void {
    let j = 0;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (!e.removed) this.entries[j++] = e;
    }
    this.entries.length = j;
    this.dirty = false;
  }

  private readonly tick = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    this.runOnce();
  };

  /**
   * Runs one tick now: reads every due entry (all entries with `force`), at
   * most MAX_SLICE per synchronous slice. Exposed for tests and benchmarks.
   */
  runOnce(force = false): void {
    this.ticks++;
    if (this.continuation) { clearImmediate(this.continuation); this.continuation = null; }
    if (this.dirty) this.compact();
    const t = this.now();
    const due = this.due;
    due.length = 0;
    for (const e of this.entries) {
      if (e.removed || (!force && e.nextDue > t + Math.min(COALESCE_MS, e.interval / 4))) continue;
      due.push(e);
    }
    this.readSlices(0, force);
  }

  /** Whether `e` may still be read or run; a throwing valid() counts as false (and is reported). */
  private stillValid(e: Entry): boolean {
    const check = e.sub ?? e.task!;
    if (!check.valid) return true;
    try {
      if (check.valid()) return true;
    } catch (err) {
      this.onError(err);
    }
    e.removed = true;
    this.dirty = true;
    return false;
  }

  private readSlices(from: number, sync: boolean): void {
    const due = this.due;
    const end = sync ? due.length : Math.min(due.length, from + MAX_SLICE);
    try {
      this.readSlice(from, end);
    } finally {
      this.picked.length = 0;
      this.tasks.length = 0;
      if (end < due.length) {
        this.continuation = setImmediate(() => { this.continuation = null; this.readSlices(end, false); });
        this.continuation.unref();
      } else {
        due.length = 0;
        this.rearm();
      }
    }
  }

  private readSlice(from: number, end: number): void {
    const due = this.due;
    let n = 0;
    const reader = this.reader;
    reader.reserve(end - from);
    // valid() runs right before the read, with no JS in between: an fd that
    // passes it cannot be closed and reused before readBatch sees it.
    const picked = this.picked;
    const tasks = this.tasks;
    picked.length = 0;
    tasks.length = 0;
    for (let i = from; i < end; i++) {
      const e = due[i];
      if (e.removed || !this.stillValid(e)) continue;
      if (e.task) { tasks.push(e); continue; }
      reader.fds[n] = e.fd;
      reader.cookies[n] = e.cookie;
      picked.push(e);
      n++;
    }
    if (n > 0) {
      reader.read(n);
      const at = this.now();
      for (let i = 0; i < n; i++) {
        const e = picked[i];
        if (e.removed) continue;
        e.nextDue = at + e.interval;
        try {
          e.sub!.onSample(reader.at(i), at);
        } catch (err) {
          // A subscriber bug must not stop the others; surface it asynchronously.
          this.onError(err);
        }
      }
    }
    if (tasks.length > 0) {
      const at = this.now();
      for (const e of tasks) {
        if (e.removed) continue;
        e.nextDue = at + e.interval;
        try {
          e.task!.run(at);
        } catch (err) {
          this.onError(err);
        }
      }
    }
  }

  private rearm(): void {
    if (this.dirty) this.compact();
    let next = Infinity;
    for (const e of this.entries) if (e.nextDue < next) next = e.nextDue;
    if (next !== Infinity) this.arm(next);
  }
}

/** The process-wide scheduler shared by watch(), failFast(), acked() and watchServer(). */
export const scheduler = new Scheduler();
