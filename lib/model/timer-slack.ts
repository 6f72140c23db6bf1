/** Timer slack: how late the kernel's timers fire (linux-tcp.md §9). */

/** Which lateness to assume for a timer: none (nominal), typical (average) or max (worst case). */
export type Lateness = 'none' | 'typical' | 'max';

/**
 * How late a kernel timer of `intervalMs` may fire, ms. With the timer
 * frequency known (CONFIG_HZ), from the timer wheel: a timer lands in the
 * level whose granularity is 8^level jiffies (level n starts at 63·8^(n-1)
 * jiffies) and fires at the next bucket boundary, so it is up to one bucket
 * (+1 jiffy) late, half a bucket on average. Unknown HZ: at most 1/8 of the
 * interval (the rule of linux-tcp.md §9), typically 1/16.
 */
export function timerLatenessMs(intervalMs: number, hz: number | undefined, kind: 'max' | 'typical'): number {
  if (!(intervalMs > 0)) return 0;
  if (!hz) return kind === 'max' ? intervalMs / 8 : intervalMs / 16;
  const jiffy = 1000 / hz;
  const jiffies = Math.ceil(intervalMs / jiffy);
  let level = 0;
  while (level < 8 && jiffies >= 63 * 8 ** level) level++;
  const bucket = 8 ** level;
  if (kind === 'max') return (bucket + 1) * jiffy;
  return (level === 0 ? 1 : bucket / 2 + 1) * jiffy;
}
