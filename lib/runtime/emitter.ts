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
 * Emits `payload` as `event` on `target`; a listener that throws is reported
 * asynchronously (an uncaught exception, as from any listener) and never
 * stops the caller, so state updated before the emit stays consistent.
 */
export function emitSafely(target: EventEmitter, event: string | symbol, payload: unknown): void {
  try {
    target.emit(event, payload);
  } catch (err) {
    process.nextTick(() => { throw err; });
  }
}
