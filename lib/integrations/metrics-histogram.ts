/**
 * A cumulative histogram per series in typed arrays, exposed to prom-client
 * as a metric object (`get()` in prom-client's metric format). prom-client's
 * own Histogram builds a label hash string per observe(); a scrape observes
 * every connection's rtt, so at 10,000 connections that was most of the
 * scrape's cost.
 */
import type { Series } from './metrics-reader';

interface Cells { counts: Float64Array; sum: number; count: number; labels: Record<string, string> }

/** What prom-client's Registry reads from a metric. */
export interface PromMetricObject {
  name: string;
  help: string;
  type: 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> }>;
  reset(): void;
}

/** A histogram keyed by series; `collect` runs before each get() (to observe the current reading). */
export class SeriesHistogram implements PromMetricObject {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly bounds: Float64Array;
  private readonly cells = new Map<Series, Cells>();

  constructor(readonly name: string, readonly help: string, bounds: readonly number[],
    private readonly labelsOf: (s: Series) => Record<string, string>, private readonly collect: () => void) {
    this.bounds = Float64Array.from([...bounds].sort((a, b) => a - b));
  }

  /** Adds one observation of `value` to `series`. */
  observe(series: Series, value: number): void {
    let c = this.cells.get(series);
    if (!c) {
      c = { counts: new Float64Array(this.bounds.length), sum: 0, count: 0, labels: this.labelsOf(series) };
      this.cells.set(series, c);
    }
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    if (i < b.length) c.counts[i]++;
    c.sum += value;
    c.count++;
  }

  async get(): ReturnType<PromMetricObject['get']> {
    this.collect();
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const c of this.cells.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.counts[i];
        values.push({ labels: { ...c.labels, le: this.bounds[i] }, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...c.labels, le: '+Inf' }, value: c.count, metricName: `${this.name}_bucket` });
      values.push({ labels: c.labels, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: c.labels, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.cells.clear();
  }
}
