/**
 * Per-socket controller state packed side by side in one Float64Array:
 * a slot of `size` numbers per socket, reused after release. Keeps a 4 Hz
 * poller over thousands of sockets on a few contiguous cache lines instead
 * of one heap object (and boxed doubles) per socket.
 */
export class StatePool {
  /** The packed state; replaced (copied) when the pool grows, so read it anew after alloc(). */
  data: Float64Array;
  private readonly free: number[] = [];
  private used = 0;

  constructor(private readonly size: number, capacity = 64) {
    this.data = new Float64Array(size * capacity);
  }

  /** Offset of a fresh slot in {@link data}. */
  alloc(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const o = this.used * this.size;
    if (o + this.size > this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.used++;
    return o;
  }

  /** Gives slot `o` back (idempotence is the caller's). */
  release(o: number): void {
    this.free.push(o);
  }
}
