/**
 * Which JavaScript runtime this is, and what of tcp-vitals works in it.
 *
 * - Node.js: everything, in the main thread and in worker threads.
 * - Bun: the kernel-level API (tcpInfo, getOptions/setOptions, queues,
 *   failFast, watch, snapshot): Bun loads N-API addons and its net.Socket
 *   has `_handle.fd`. Not protect() / `tcp-vitals/register`: the deathwatch
 *   needs libuv (`uv_poll_*`), which Bun does not implement (calling it aborts
 *   the process), and protect()'s hooks need Node's TCP handles. There they
 *   do nothing and say so once ({@link warnUnsupportedRuntime}).
 * - Deno (2.x): the addon loads, but Deno's net.Socket has no fd (its
 *   `_handle` is a TCPWrap over a Deno resource id), so the socket functions
 *   throw ERR_SOCKET_NOT_CONNECTED; they work on a raw fd number. protect()
 *   does nothing and says so, as under Bun.
 */
/** The code of protect()'s one warning outside Node (silence it with `process.on('warning')` or `--no-warnings`). */
export const UNSUPPORTED_RUNTIME_WARNING = 'TCP_VITALS_UNSUPPORTED_RUNTIME';

/** 'node', 'bun' or 'deno'. */
export function runtimeName(): 'node' | 'bun' | 'deno' {
  const v = process.versions as Record<string, string | undefined>;
  if (typeof v.bun === 'string') return 'bun';
  if (typeof v.deno === 'string') return 'deno';
  return 'node';
}

/** Whether protect() (the libuv deathwatch and Node's TCP handle hooks) can run here: Node.js only. */
export function protectSupported(): boolean {
  return runtimeName() === 'node';
}

const WARNED = Symbol.for('tcp-vitals.unsupported-runtime-warned');

/** Emits, once per thread (even with two copies of the package), a warning that `what` does nothing in this runtime. */
export function warnUnsupportedRuntime(what: string): void {
  const g = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (g[WARNED]) return;
  Object.defineProperty(g, WARNED, { value: true, enumerable: false });
  const name = runtimeName();
  const works = name === 'bun' ? ' tcpInfo, getOptions/setOptions, queues and failFast work.' : '';
  process.emitWarning(`tcp-vitals: ${what} does nothing in ${name} (Node.js only); connections are not protected.${works}`,
    { code: UNSUPPORTED_RUNTIME_WARNING, type: 'TcpVitalsWarning' });
}
