/**
 * protect()'s outbound connections get their kernel options (and their
 * deathwatch entry) a little after their connect, in one pass per period,
 * not one native call each at connect: a connection that is done and closed
 * before the pass (a request per connection on a fast network) costs no
 * syscall at all.
 *
 * Nothing the kernel does is lost by the wait. TCP_USER_TIMEOUT is counted
 * from the first unacknowledged transmission (the SYN, or the oldest
 * unacknowledged segment: `retrans_stamp`), not from the setsockopt; the
 * keepalive timer is armed for TCP_KEEPIDLE after the last segment received,
 * not after the setsockopt. Only a retransmission timer already running when
 * the options arrive keeps its delay (a connection's first ones: 200 ms to
 * 1 s). See docs/api-protect.md, "When the options are set".
 */
import { onBeforeOptions } from '../../kernel/options';
import { report } from '../../runtime/hook-state';

/** The settle delay for a protect() timeout, ms: timeout / 20, 100..500. */
export function settleDelayFor(timeout: number): number {
  return Math.min(500, Math.max(100, Math.round(timeout / 20)));
}

/** Registrations (fd, tag) waiting for the next pass; `settle` is called for each, once. */
export class Settler {
  private fds = new Int32Array(256);
  private tags = new Int32Array(256);
  private count = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly delay: number, private readonly settle: (fd: number, tag: number) => void) {}

  /** Queues `fd` registered with `tag` for the next pass (started now when none is due). */
  add(fd: number, tag: number): void {
    if (this.count === this.fds.length) {
      const f = new Int32Array(this.count * 2); f.set(this.fds); this.fds = f;
      const g = new Int32Array(this.count * 2); g.set(this.tags); this.tags = g;
    }
    this.fds[this.count] = fd;
    this.tags[this.count] = tag;
    this.count++;
    if (this.timer === null) {
      this.timer = setTimeout(this.run, this.delay);
      this.timer.unref(); // never keeps the process alive
    }
  }

  /** Settles every queued registration now. */
  readonly run = (): void => {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
    const n = this.count;
    this.count = 0;
    for (let i = 0; i < n; i++) {
      try { this.settle(this.fds[i], this.tags[i]); } catch (e) { report(e); }
    }
  };

  /** Forgets every queued registration. */
  stop(): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
    this.count = 0;
  }
}

/** What settles a waiting fd at once (a running protect()). */
interface SettlesNow {
  settleNow(fd: number): void;
}

/** This copy's running protect()s. */
const running = new Set<SettlesNow>();

function settleAllNow(fd: number): void {
  for (const p of running) p.settleNow(fd);
}

/**
 * With `on`, `p` settles a waiting fd before kernel/options reads or sets its
 * options (getOptions() shows what protect() promised; setOptions() lands on
 * top); without, no longer.
 */
export function settleBeforeOptions(p: SettlesNow, on: boolean): void {
  if (!on) { running.delete(p); return; }
  running.add(p);
  onBeforeOptions(settleAllNow);
}
