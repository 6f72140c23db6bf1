/**
 * `node --require tcp-vitals/register app.js` (or `--import`, or through
 * NODE_OPTIONS): protect() every TCP connection of the process, configured by
 * the environment:
 *
 * - TCP_VITALS_TIMEOUT: ms or a duration (`10s`, `1m`); default 10 s.
 * - TCP_VITALS_SERVERS=1: also protect accepted connections.
 * - TCP_VITALS_INCLUDE / TCP_VITALS_EXCLUDE: comma-separated `host`,
 *   `host:port`, `:port`, IP address or CIDR.
 *
 * A malformed value stops start-up with one line naming the variable and what
 * it accepts (exit code 9, as Node does for invalid arguments): a process that
 * asked for protection never runs unprotected by mistake. It also starts the
 * misconfiguration warnings (policy/alarms: TCP_VITALS_* codes).
 */
import { printable } from './common/text';
import { EnvConfigError, optionsFromEnv, protect, ProtectHandle } from './policy/protect';
import { misconfigurationAlarms } from './policy/alarms';

const KEY = Symbol.for('tcp-vitals.register');

function start(): ProtectHandle | undefined {
  const g = globalThis as unknown as Record<symbol, ProtectHandle | undefined>;
  if (g[KEY]) return g[KEY]; // loaded twice (--require and --import, or two copies): one protect()
  let handle: ProtectHandle;
  try {
    handle = protect(optionsFromEnv(process.env));
  } catch (err) {
    const line = err instanceof EnvConfigError ? err.message : `tcp-vitals: cannot protect this process: ${(err as Error)?.message ?? err}`;
    process.stderr.write(`${printable(line)}\n`); // one line: a bad rule's newline or ESC is shown escaped
    process.exit(9);
  }
  Object.defineProperty(g, KEY, { value: handle, enumerable: false });
  misconfigurationAlarms(); // keepalive settings that silently do nothing: one warning per kind (TCP_VITALS_* codes)
  return handle;
}

/** The protect() handle the preload started (stats(), stop()). */
export const registered = start();
