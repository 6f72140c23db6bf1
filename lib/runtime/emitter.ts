/**
 * Emitters with an event map: `on`/`once`/`off` typed per event name, so a
 * misspelt name or payload field fails to compile. Plain EventEmitters at
 * run time (`events.on(emitter, 'dead')` and `events.once` work).
 */
import { EventEmitter } from 'node:events';

/** Event name -> payload. */
export type EventMap = object;

/** A listener of event `K` of map `M`. */
export type Listener<M extends EventMap, K extends keyof M> = (payload: M[K]) => void;

/** An EventEmitter whose on/once/off/emit are typed by `M`. */
export interface TypedEmitter<M extends EventMap> extends EventEmitter {
  on<K extends keyof M & string>(event: K, listener: Listener<M, K>): this;
  once<K extends keyof M & string>(event: K, listener: Listener<M, K>): this;
  off<K extends keyof M & string>(event: K, listener: Listener<M, K>): this;
  addListener<K extends keyof M & string>(event: K, listener: Listener<M, K>): this;
  removeListener<K extends keyof M & string>(event: K, listener: Listener<M, K>): this;
  emit<K extends keyof M & string>(event: K, payload: M[K]): boolean;
}

/**
 * Emits `payload` as `event` on `target` and returns what a listener threw
 * (undefined if nothing): the caller finishes its work (other events, the
 * same event on another emitter) and rethrows at the end, so one throwing
 * listener never stops the others nor leaves state half updated.
 */
export function emitCatching(target: EventEmitter, event: string | symbol, payload: unknown): unknown {
  try {
    target.emit(event, payload);
    return undefined;
  } catch (err) {
    return err ?? new Error(`a listener of ${String(event)} threw ${String(err)}`);
  }
}

/** Collects the first error of several {@link emitCatching} calls; later ones are rethrown asynchronously. */
export class ListenerErrors {
  private first: unknown = undefined;
  /** Records `err` (if any). */
  add(err: unknown): void {
    if (err === undefined) return;
    if (this.first === undefined) this.first = err;
    else process.nextTick(() => { throw err; });
  }
  /** Throws the first recorded error (for the poller to report), if any. */
  rethrow(): void {
    const err = this.first;
    this.first = undefined;
    if (err !== undefined) throw err;
  }
}
