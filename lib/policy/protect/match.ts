/**
 * Asking the user's `match()` about one connection. Everything that touches
 * what the user wrote (the call, and reading what it returned or threw: a
 * getter that throws, a revoked Proxy, a thrown object whose `message` getter
 * throws) happens in here, inside one try: nothing of it ever escapes into
 * Node's connect path. A match() that fails gets the default timeout.
 */
import { isTimeout } from '../../model/failfast-settings';
import type { MatchResult } from './config';
import type { ConnectionInfo } from './rules';

/** match() said to leave the connection alone. */
export const SKIP = -1;
/** match() said nothing usable (true, a bad timeout, or it failed): the default timeout. */
export const DEFAULT = 0;

let warned = false;

/**
 * What `match(conn)` decided: {@link SKIP}, {@link DEFAULT}, or a timeout (ms,
 * whole seconds, 2 s .. 1 h). Never throws; the first failure of the process
 * emits one warning.
 */
export function askMatch(match: (conn: ConnectionInfo) => MatchResult, conn: ConnectionInfo): number {
  try {
    const verdict: unknown = match(conn);
    if (verdict === false) return SKIP;
    if (verdict === null || (typeof verdict !== 'object' && typeof verdict !== 'function')) return DEFAULT;
    const t = (verdict as { timeout?: unknown }).timeout;
    return isTimeout(t) ? t : DEFAULT;
  } catch (err) {
    if (!warned) {
      warned = true;
      process.emitWarning(`tcp-vitals: protect() match() threw (${describe(err)}); protecting with the default timeout`);
    }
    return DEFAULT;
  }
}

/** The message of what match() threw, whatever it is (never throws). */
function describe(err: unknown): string {
  try {
    const m = (err as { message?: unknown } | null)?.message;
    return typeof m === 'string' ? m : String(err);
  } catch {
    return 'an error that cannot be printed';
  }
}
