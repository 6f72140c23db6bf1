/**
 * protect.scope({ timeout }, fn): connections opened inside fn's async
 * context (AsyncLocalStorage) get that timeout.
 */
import { invalidArgType } from '../../common/errors';
import { validateTimeout } from '../../model/failfast-settings';
import { shared } from '../../runtime/shared';

/** Options of protect.scope(). */
export interface ScopeOptions {
  /** Timeout for connections opened inside the scope, ms (whole seconds, 2 s .. 1 h). */
  timeout: number;
}

/** One per process, shared by every loaded copy of the package (runtime/shared). */
const storage = shared.scopes;

/** Runs `fn` (and everything it starts) with `options.timeout` for new connections; returns what fn returns. */
export function scope<R>(options: ScopeOptions, fn: () => R): R {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const timeout = validateTimeout(options.timeout, 'options.timeout');
  if (typeof fn !== 'function') throw invalidArgType('fn', 'of type function', fn);
  return storage.run({ timeout }, fn);
}

/** The timeout of the innermost scope of the current async context, or 0. */
export function scopeTimeout(): number {
  return storage.getStore()?.timeout ?? 0;
}
