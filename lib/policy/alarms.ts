/**
 * misconfigurationAlarms(): a warning, once per process and kind, when a
 * socket's options as the kernel holds them contradict what the application
 * (or its client library) evidently asked for. Through process.emitWarning
 * with a code (Node's convention: `--no-warnings`, or filter by code):
 *
 * - TCP_VITALS_KEEPALIVE_ROUNDED: `setKeepAlive(true, ms)` with 0 < ms < 1000:
 *   Node rounds the delay down to 0 s, libuv then sets SO_KEEPALIVE alone and
 *   the kernel's tcp_keepalive_time (2 h by default) applies (nodejs/node#57712);
 * - TCP_VITALS_KEEPALIVE_LOST: keepalive asked for before the descriptor
 *   existed and not what the kernel holds at connect (libuv stores only the
 *   flag and applies its own 60 s; nodejs/node#31663);
 * - TCP_VITALS_AGENT_KEEPALIVE: an `http.Agent({ keepAlive: true })` request
 *   on a connection without usable TCP keepalive: the agent's keepAlive is
 *   HTTP connection reuse; it sets TCP keepalive (keepAliveMsecs) only when a
 *   socket goes back to the pool (nodejs/node#47137);
 * - TCP_VITALS_KEEPALIVE_DEFAULT_IDLE: keepalive on with a first probe after
 *   an hour or more (the kernel's default 2 h);
 * - TCP_VITALS_USER_TIMEOUT_BELOW_KEEPALIVE: 0 < TCP_USER_TIMEOUT < TCP_KEEPIDLE;
 * - TCP_VITALS_KEEPALIVE_PROBES_ZERO: keepalive on with tcp_keepalive_probes = 0;
 * - TCP_VITALS_KEEPALIVE_OVERRIDDEN: a client's setKeepAlive(false) on a
 *   socket protect() looks after had no effect (protect() keeps its
 *   keepalive; Node skips the call on a socket it believes is off), or a
 *   client's value won over protect()'s in the kernel.
 *
 * The per-socket rules are model/traps' RULES, the ones `tcp-vitals inspect`
 * shows per connection. Checks run only when a socket's keepalive is set
 * (setKeepAlive, at either level) or an agent request gets its socket: no
 * cost on the connect path.
 */
import * as net from 'node:net';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { getOptions } from '../kernel/options';
import { kernelSettings } from '../kernel/sysctl';
import { formatDuration } from '../model/format';
import { KeepAliveView, RULE_MESSAGES, RULES } from '../model/traps';
import { addHookListener, isClaimed, ownerOf, removeHookListener, tcpHandleOf } from '../runtime/process-hooks';
import type { HookListener, TcpHandle } from '../runtime/process-hooks';

/** The warning codes, one per kind. */
export const ALARM_CODES = Object.freeze({
  rounded: 'TCP_VITALS_KEEPALIVE_ROUNDED',
  lost: 'TCP_VITALS_KEEPALIVE_LOST',
  agent: 'TCP_VITALS_AGENT_KEEPALIVE',
  defaultIdle: 'TCP_VITALS_KEEPALIVE_DEFAULT_IDLE',
  userTimeout: 'TCP_VITALS_USER_TIMEOUT_BELOW_KEEPALIVE',
  probesZero: 'TCP_VITALS_KEEPALIVE_PROBES_ZERO',
  overridden: 'TCP_VITALS_KEEPALIVE_OVERRIDDEN',
} as const);

/** One warning code. */
export type AlarmCode = typeof ALARM_CODES[keyof typeof ALARM_CODES];

/** A warning as emitted (also returned by {@link alarmsRaised}). */
export interface Alarm {
  readonly code: AlarmCode;
  readonly message: string;
}

/** Handle returned by {@link misconfigurationAlarms}. */
export interface Alarms {
  /** Stops this caller's interest (the checks stop when no caller is left). Idempotent. */
  stop(): void;
}

interface State {
  readonly version: 1;
  /** Kinds warned in this process (any loaded copy). */
  readonly raised: Alarm[];
  users: number;
}

const KEY = Symbol.for('tcp-vitals.alarms.v1');
const AGENT_CHANNEL = 'http.client.request.start';

function state(): State {
  const g = globalThis as unknown as Record<symbol, State | undefined>;
  let s = g[KEY];
  if (!s) {
    s = { version: 1, raised: [], users: 0 };
    Object.defineProperty(g, KEY, { value: s, enumerable: false });
  }
  return s;
}

/** Whether `code` has been raised in this process (then its check is skipped: no syscall for it). */
function raised(code: AlarmCode): boolean {
  return state().raised.some((a) => a.code === code);
}

function raise(code: AlarmCode, message: string): void {
  const s = state();
  if (s.raised.some((a) => a.code === code)) return;
  s.raised.push({ code, message });
  process.emitWarning(`tcp-vitals: ${message}`, { type: 'TcpVitalsWarning', code });
}

/** The effective options of an fd, or null when it cannot be read (closed, not TCP). */
function read(fd: number): KeepAliveView | null {
  try {
    return getOptions(fd);
  } catch {
    return null;
  }
}

/** The rules of model/traps on what the kernel holds now. */
function checkRules(o: KeepAliveView): void {
  if (RULES.keepAliveWithoutDelay(o)) raise(ALARM_CODES.defaultIdle, RULE_MESSAGES.keepAliveWithoutDelay(o));
  if (RULES.keepAliveProbesZero(o)) raise(ALARM_CODES.probesZero, RULE_MESSAGES.keepAliveProbesZero());
  if (RULES.userTimeoutBelowKeepAlive(o)) raise(ALARM_CODES.userTimeout, RULE_MESSAGES.userTimeoutBelowKeepAlive(o));
}

/** After every listener of this setKeepAlive ran (protect() re-applies in its own): what the kernel holds. */
function afterKeepAlive(handle: TcpHandle, fd: number, enable: boolean, delaySeconds: number): void {
  if (handle.fd !== fd) return; // closed in between
  const o = read(fd);
  if (!o) return;
  if (isClaimed(handle)) {
    const asked = enable ? `setKeepAlive(true${delaySeconds > 0 ? `, ${delaySeconds * 1000}` : ''})` : 'setKeepAlive(false)';
    const won = enable ? o.keepAlive === true && (delaySeconds === 0 || o.keepAliveIdle === delaySeconds * 1000) : o.keepAlive !== true;
    // A client turning keepalive on with its own delay (agents, mysql2, pg) and protect() re-applying its
    // own is protect() working as meant: said only when the client asked for keepalive off.
    if (!won && enable) return;
    raise(ALARM_CODES.overridden, won
      ? `a client called ${asked} on a connection protect() looks after, and its value now stands in the kernel (keepalive ${o.keepAlive ? `on, first probe after ${formatDuration(o.keepAliveIdle ?? 0)}` : 'off'}): protect()'s idle detection no longer applies to it`
      : `a client called ${asked} on a connection protect() looks after; protect() re-applied its own keepalive (on, first probe after ${formatDuration(o.keepAliveIdle ?? 0)}), so the client's value has no effect`);
    return;
  }
  if (o.keepAlive) checkRules(o);
}

const listener: HookListener = {
  settingKeepAlive(socket: net.Socket, enable: unknown, delayMs: unknown): void {
    if (!enable && !raised(ALARM_CODES.overridden)) {
      // Node may not even reach the handle (setKeepAlive(false) on a socket it believes is off already).
      // A client turning keepalive on under protect() (agents do at every return to the pool) is not checked.
      const h = tcpHandleOf(socket);
      if (h && h.fd >= 0 && isClaimed(h)) {
        const fd = h.fd;
        queueMicrotask(() => afterKeepAlive(h, fd, false, 0));
        return;
      }
    }
    if (!enable || typeof delayMs !== 'number' || !(delayMs > 0 && delayMs < 1000) || raised(ALARM_CODES.rounded)) return;
    const idle = kernelSettings().keepAliveTimeMs;
    raise(ALARM_CODES.rounded, `setKeepAlive(true, ${delayMs}): Node counts the delay in whole seconds and rounds ${delayMs} ms down to 0, `
      + `which leaves the kernel's tcp_keepalive_time: the first probe after ${formatDuration(idle)} of silence, not ${delayMs} ms (nodejs/node#57712)`);
  },
  keepAlive(handle: TcpHandle, enable: unknown, delaySeconds: unknown): void {
    const on = Boolean(enable);
    const delay = typeof delaySeconds === 'number' && delaySeconds > 0 ? delaySeconds : 0;
    if (handle.fd < 0) {
      // libuv has no descriptor yet: it stores the flag only and, at connect, applies its own delay.
      if (!on || delay === 0 || raised(ALARM_CODES.lost)) return;
      const owner = ownerOf(handle as object);
      owner?.once('connect', () => {
        if (handle.fd < 0) return;
        const o = read(handle.fd);
        if (o && !(o.keepAlive && o.keepAliveIdle === delay * 1000)) {
          raise(ALARM_CODES.lost, `keepalive was asked for before the connection had a descriptor (first probe after ${delay} s), `
            + `but the kernel holds ${o.keepAlive ? `a first probe after ${formatDuration(o.keepAliveIdle ?? 0)}` : 'keepalive off'} `
            + 'after connect (libuv applies its own delay then; nodejs/node#31663): set it in the \'connect\' callback');
        }
      });
      return;
    }
    if (isClaimed(handle)) return; // settingKeepAlive compares what the client asked with what stands
    if (!on || (raised(ALARM_CODES.defaultIdle) && raised(ALARM_CODES.probesZero) && raised(ALARM_CODES.userTimeout))) return;
    const fd = handle.fd;
    queueMicrotask(() => afterKeepAlive(handle, fd, on, delay));
  },
};

function onAgentRequest(message: unknown): void {
  if (raised(ALARM_CODES.agent)) return;
  const request = (message as { request?: unknown } | null)?.request as { agent?: { keepAlive?: unknown; keepAliveMsecs?: unknown }; once?: unknown; socket?: unknown } | undefined;
  if (!request || request.agent?.keepAlive !== true || typeof request.once !== 'function') return;
  const agent = request.agent;
  const onSocket = (socket: unknown): void => {
    if (!(socket instanceof net.Socket)) return;
    const check = (): void => {
      const h = tcpHandleOf(socket);
      if (!h || h.fd < 0 || isClaimed(h)) return;
      const o = read(h.fd);
      if (!o || (o.keepAlive && !RULES.keepAliveWithoutDelay(o))) return;
      raise(ALARM_CODES.agent, `http.Agent({ keepAlive: true }) keeps connections for reuse (HTTP keep-alive), not TCP keepalive: it sets `
        + `keepalive (keepAliveMsecs ${String(agent.keepAliveMsecs ?? 1000)}) only when a socket goes back to the pool, so this request's `
        + `connection has ${o.keepAlive ? `a first probe after ${formatDuration(o.keepAliveIdle ?? 0)}` : 'no keepalive'} while it waits for the response (nodejs/node#47137)`);
    };
    // After Node's own 'connect' work (it applies the socket's keepalive there).
    if (socket.connecting) socket.once('connect', () => queueMicrotask(check));
    else queueMicrotask(check);
  };
  // The channel is published when the request is finished (headers flushed): the socket may be there already.
  const assigned = (request as { socket?: unknown }).socket;
  if (assigned) onSocket(assigned);
  else (request as unknown as NodeJS.EventEmitter).once('socket', onSocket);
}

/**
 * Starts the misconfiguration warnings for the whole process (the preload
 * `tcp-vitals/register` starts them). Each kind is warned at most once per
 * process, with its code. Returns a handle whose stop() ends this caller's
 * interest.
 */
export function misconfigurationAlarms(): Alarms {
  const s = state();
  if (s.users++ === 0) {
    addHookListener(listener);
    subscribe(AGENT_CHANNEL, onAgentRequest);
  }
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      if (--s.users === 0) {
        removeHookListener(listener);
        unsubscribe(AGENT_CHANNEL, onAgentRequest);
      }
    },
  };
}

/** The warnings raised so far in this process, in order (each kind once). */
export function alarmsRaised(): readonly Alarm[] {
  return [...state().raised];
}
