/**
 * The `signal` option of watch(), failFast() and watchServer(), wired in one
 * place: validated like Node's own, and turned into a stop() call.
 */
import { invalidArgType } from '../common/errors';

/** Validates an optional `signal` option (ERR_INVALID_ARG_TYPE unless an AbortSignal). */
export function validateSignal(signal: unknown, name = 'options.signal'): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw invalidArgType(name, 'an instance of AbortSignal', signal);
  return signal;
}

/**
 * Calls `stop` when `signal` aborts (at once if it already has). Returns the
 * function that removes the listener; call it from `stop` so a stopped
 * handle keeps no reference from the signal.
 */
export function stopOnAbort(signal: AbortSignal | undefined, stop: () => void): () => void {
  if (!signal) return noop;
  if (signal.aborted) {
    stop();
    return noop;
  }
  const onAbort = (): void => stop();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

function noop(): void {}
