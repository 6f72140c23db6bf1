/** What protect() has done: counters and a detection-latency summary. */

/** Returned by stats(). */
export interface ProtectStats {
  /** Sockets protected right now. */
  protectedNow: number;
  /** Connections protected since protect() started (a happy-eyeballs fallback counts once). */
  protectedTotal: number;
  /** Connections left alone, by rule: 'include' (no include rule matched), 'exclude', 'match' (match() returned false). */
  skipped: { include: number; exclude: number; match: number };
  /** Connections whose options the kernel refused (e.g. the socket was already closing). */
  failed: number;
  /** Sockets a per-socket failFast() took over. */
  handedOver: number;
  /** Deaths by reason ('retransmit', 'keepalive', 'unsent', 'zero-window', 'kernel'; 'reset' for a peer RST seen on a paused socket). */
  deaths: Record<string, number>;
  /**
   * ms from the moment the peer was last heard from to the moment the death
   * reached the application (the error's `silentMs`), over the last 1024 deaths.
   */
  detectionLatency: { count: number; min: number; p50: number; p90: number; max: number };
}

const WINDOW = 1024;

/** Mutable counters behind {@link ProtectStats}. */
export class StatsCounter {
  protectedNow = 0;
  protectedTotal = 0;
  readonly skipped = { include: 0, exclude: 0, match: 0 };
  failed = 0;
  handedOver = 0;
  private readonly deaths = new Map<string, number>();
  private readonly latencies = new Float64Array(WINDOW);
  private latencyCount = 0;

  death(reason: string, silentMs: number | undefined): void {
    this.deaths.set(reason, (this.deaths.get(reason) ?? 0) + 1);
    if (typeof silentMs === 'number' && Number.isFinite(silentMs)) {
      this.latencies[this.latencyCount % WINDOW] = silentMs;
      this.latencyCount++;
    }
  }

  snapshot(): ProtectStats {
    const n = Math.min(this.latencyCount, WINDOW);
    const sorted = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    const at = (q: number): number => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(q * n))]);
    return {
      protectedNow: this.protectedNow,
      protectedTotal: this.protectedTotal,
      skipped: { ...this.skipped },
      failed: this.failed,
      handedOver: this.handedOver,
      deaths: Object.fromEntries(this.deaths),
      detectionLatency: { count: this.latencyCount, min: at(0), p50: at(0.5), p90: at(0.9), max: n === 0 ? 0 : sorted[n - 1] },
    };
  }
}
