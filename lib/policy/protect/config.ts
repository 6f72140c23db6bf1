/**
 * protect() options and the TCP_VITALS_* environment: parsing, validation and
 * the kernel options a timeout maps to.
 */
import { invalidArgType, invalidArgValue } from '../../common/errors';
import type { ProtectKernelOptions } from '../../kernel/deathwatch';
import { failFastOptions, isTimeout, validateTimeout } from '../../model/failfast-settings';
import { ConnectionInfo, RuleList, splitList } from './rules';

/** Default timeout, ms. */
export const DEFAULT_PROTECT_TIMEOUT_MS = 10_000;

/** What match() may return. */
export type MatchResult = boolean | { timeout: number };

/** Options of protect(). */
export interface ProtectOptions {
  /** How long a silent peer may go unnoticed, ms (whole seconds, 2 s .. 1 h). Default 10 s. */
  timeout?: number;
  /** Also protect connections accepted by net/http/https/http2 servers. Default false. */
  servers?: boolean;
  /** Only protect connections matching one of these rules (`host`, `host:port`, `:port`, address, CIDR). */
  include?: readonly string[];
  /** Never protect connections matching one of these rules. */
  exclude?: readonly string[];
  /** Last word per connection (after include/exclude): false skips, true protects, `{ timeout }` protects with that timeout. */
  match?: (conn: ConnectionInfo) => MatchResult;
  /** Stops protect() when aborted. */
  signal?: AbortSignal;
}

/** Validated options. */
export interface ProtectConfig {
  readonly timeout: number;
  readonly servers: boolean;
  readonly include: RuleList | null;
  readonly exclude: RuleList | null;
  readonly match: ((conn: ConnectionInfo) => MatchResult) | null;
  readonly signal: AbortSignal | null;
}

function ruleList(name: string, v: unknown): RuleList | null {
  if (v === undefined) return null;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidArgType(name, 'an array of strings', v);
  if (v.length === 0) return null;
  try {
    return RuleList.compile(v as string[]);
  } catch (err) {
    throw invalidArgValue(name, v, `must hold host, host:port, :port, an IP address or a CIDR (${(err as Error).message})`);
  }
}

/** Validates protect() options (Node-shaped errors). */
export function resolveOptions(options: ProtectOptions = {}): ProtectConfig {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const timeout = options.timeout === undefined ? DEFAULT_PROTECT_TIMEOUT_MS : validateTimeout(options.timeout, 'options.timeout');
  if (options.servers !== undefined && typeof options.servers !== 'boolean') {
    throw invalidArgType('options.servers', 'of type boolean', options.servers);
  }
  if (options.match !== undefined && typeof options.match !== 'function') {
    throw invalidArgType('options.match', 'of type function', options.match);
  }
  const signal = options.signal ?? null;
  if (signal !== null && !(signal instanceof AbortSignal)) throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  return {
    timeout,
    servers: options.servers ?? false,
    include: ruleList('options.include', options.include),
    exclude: ruleList('options.exclude', options.exclude),
    match: options.match ?? null,
    signal,
  };
}

/** A malformed TCP_VITALS_* value: `message` is the one line to print. */
export class EnvConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(message);
    this.name = 'EnvConfigError';
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `10000`, `10s`, `1.5m`, `250ms`, `1h` -> ms; null when not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNITS[m[2] ?? 'ms'];
  return Number.isFinite(ms) ? Math.round(ms * 1000) / 1000 : null;
}

/** protect() options from TCP_VITALS_TIMEOUT, _SERVERS, _INCLUDE, _EXCLUDE; throws EnvConfigError. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): ProtectOptions {
  const options: { timeout?: number; servers?: boolean; include?: string[]; exclude?: string[] } = {};
  const t = env.TCP_VITALS_TIMEOUT;
  if (t !== undefined && t.trim() !== '') {
    const ms = parseDuration(t);
    if (!isTimeout(ms)) {
      throw new EnvConfigError('TCP_VITALS_TIMEOUT', `tcp-vitals: TCP_VITALS_TIMEOUT=${JSON.stringify(t)} is not valid: `
        + 'expected milliseconds or a duration (e.g. 10000, 10s, 1m), whole seconds from 2s to 1h');
    }
    options.timeout = ms;
  }
  const s = env.TCP_VITALS_SERVERS;
  if (s !== undefined && s.trim() !== '') {
    const v = s.trim().toLowerCase();
    if (v === '1' || v === 'true' || v === 'yes') options.servers = true;
    else if (v === '0' || v === 'false' || v === 'no') options.servers = false;
    else {
      throw new EnvConfigError('TCP_VITALS_SERVERS', `tcp-vitals: TCP_VITALS_SERVERS=${JSON.stringify(s)} is not valid: expected 1 or 0`);
    }
  }
  for (const name of ['TCP_VITALS_INCLUDE', 'TCP_VITALS_EXCLUDE'] as const) {
    const v = env[name];
    if (v === undefined || v.trim() === '') continue;
    const list = splitList(v);
    try {
      RuleList.compile(list);
    } catch (err) {
      throw new EnvConfigError(name, `tcp-vitals: ${name}=${JSON.stringify(v)} is not valid: ${(err as Error).message}; `
        + 'expected a comma-separated list of host, host:port, :port, IP address or CIDR');
    }
    if (name === 'TCP_VITALS_INCLUDE') options.include = list;
    else options.exclude = list;
  }
  return options;
}

/**
 * The kernel options for `timeout` ms: failFast's (TCP_USER_TIMEOUT =
 * timeout - 200 ms, keepalive idle timeout/2, probes every second) plus
 * TCP_RTO_MAX_MS = timeout / 5 (at least 1 s, kernel 6.15+), so a lossy but
 * live path gets at least five retransmissions inside the timeout instead of
 * an RTO that has backed off to several seconds.
 */
export function kernelOptionsFor(timeout: number): ProtectKernelOptions {
  const o = failFastOptions(timeout);
  return {
    userTimeout: o.userTimeout,
    keepIdleS: o.keepAliveIdle / 1000,
    keepIntervalS: o.keepAliveInterval / 1000,
    keepCount: o.keepAliveCount,
    rtoMax: Math.min(120_000, Math.max(1000, Math.floor(timeout / 5000) * 1000)),
  };
}

/** Polling interval for sockets with data outstanding, ms: timeout / 10, 100..1000. */
export function pollIntervalFor(timeout: number): number {
  return Math.min(1000, Math.max(100, Math.round(timeout / 10)));
}

/**
 * The kernel options per timeout, as protect() sets them: TCP_KEEPCNT is left
 * alone (keepCount 0) because with TCP_USER_TIMEOUT set the kernel's
 * keepalive timer never reads it (see failFastOptions): one syscall less.
 */
const kernelOptionCache = new Map<number, ProtectKernelOptions>();
export function kernelOptions(timeout: number): ProtectKernelOptions {
  let o = kernelOptionCache.get(timeout);
  if (!o) { o = Object.freeze({ ...kernelOptionsFor(timeout), keepCount: 0 }); kernelOptionCache.set(timeout, o); }
  return o;
}
