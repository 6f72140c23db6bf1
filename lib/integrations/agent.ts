/**
 * failFast for HTTP clients: every socket an http(s).Agent or an undici
 * dispatcher opens gets failFast, so a request to a server that vanished
 * fails within the timeout instead of hanging for ~15 minutes.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import { invalidArgType } from '../common/errors';
import { failFast, failFastOptions, FailFastHandle, FailFastOptions } from '../policy/failfast';
import { setOptions } from '../kernel/options';
import { validateObject } from '../common/validate';

const patched = new WeakSet<http.Agent>();
const handles = new WeakMap<net.Socket, FailFastHandle>();

function protect(socket: net.Socket, options: FailFastOptions): void {
  if (handles.has(socket) || socket.destroyed) return;
  handles.set(socket, failFast(socket, options));
}

/**
 * Makes `agent` (an http.Agent or https.Agent, e.g. `http.globalAgent`) apply
 * `failFast(socket, options)` to every socket it creates, from the moment the
 * socket starts connecting (a server that never answers the SYN fails within
 * the timeout too). Sockets kept alive in the agent's pool keep the failFast
 * keepalive schedule, so a pooled socket whose server vanished is closed and
 * dropped from the pool within the timeout, before a request picks it. (The
 * agent calls setKeepAlive(true, keepAliveMsecs) each time a socket goes back
 * to the pool; Node 20 skips that call when the delay is unchanged, and the
 * wrapper re-applies failFast's options after it in case it does not.)
 *
 * The options are validated now (same rules as failFast: `timeout` in whole
 * seconds, 2000..3600000 ms). Returns the same agent. A second call on the
 * same agent keeps the first options.
 */
export function failFastAgent<A extends http.Agent>(agent: A, options: FailFastOptions): A {
  if (!(agent instanceof http.Agent)) throw invalidArgType('agent', 'an instance of http.Agent or https.Agent', agent);
  validateObject('options', options);
  const kernelOptions = failFastOptions(options.timeout);
  if (patched.has(agent)) return agent;
  patched.add(agent);
  const opts: FailFastOptions = { ...options };

  type CreateConnection = (o: object, cb?: (err: Error | null, s?: net.Socket) => void) => net.Socket | undefined | null;
  const agentWithHooks = agent as unknown as { createConnection: CreateConnection; keepSocketAlive(s: net.Socket): boolean };
  const createConnection = agentWithHooks.createConnection;
  agentWithHooks.createConnection = function (this: http.Agent, connectOptions, callback) {
    // An agent may hand over the socket by returning it or through the callback.
    const cb = callback && ((err: Error | null, s?: net.Socket) => {
      if (!err && s) protect(s, opts);
      callback(err, s);
    });
    const socket = createConnection.call(this, connectOptions, cb);
    if (socket) protect(socket, opts);
    return socket;
  };
  const keepSocketAlive = agentWithHooks.keepSocketAlive;
  agentWithHooks.keepSocketAlive = function (this: http.Agent, socket: net.Socket): boolean {
    const keep = keepSocketAlive.call(this, socket);
    if (keep && handles.has(socket) && !socket.destroyed) {
      try {
        setOptions(socket, kernelOptions);
      } catch {
        return false; // the socket is already closing: do not pool it
      }
    }
    return keep;
  };
  return agent;
}

/** An http.Agent whose every socket gets failFast (see {@link failFastAgent}). */
export class FailFastAgent extends http.Agent {
  /** @param options http.AgentOptions plus `failFast: { timeout }` (ms, whole seconds, 2000..3600000). */
  constructor(options: http.AgentOptions & { failFast: FailFastOptions }) {
    const { failFast: ff, ...agentOptions } = options ?? ({} as never);
    super(agentOptions);
    failFastAgent(this, ff);
  }
}

/** An https.Agent whose every socket gets failFast (see {@link failFastAgent}). */
export class FailFastHttpsAgent extends https.Agent {
  /** @param options https.AgentOptions plus `failFast: { timeout }` (ms, whole seconds, 2000..3600000). */
  constructor(options: https.AgentOptions & { failFast: FailFastOptions }) {
    const { failFast: ff, ...agentOptions } = options ?? ({} as never);
    super(agentOptions);
    failFastAgent(this, ff);
  }
}

/**
 * undici's connector shape: `connect(options, callback)` as returned by
 * `undici.buildConnector(...)` and accepted by the `connect` option of
 * `undici.Agent`, `Pool` and `Client`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- undici's options type is not ours; `unknown` would reject buildConnector()
export type UndiciConnector = (options: any, callback: (err: Error | null, socket: net.Socket | null) => void) => unknown;

/**
 * Wraps an undici connector so every socket it connects gets
 * `failFast(socket, options)` before undici sends a request on it:
 *
 * ```js
 * const { Agent, buildConnector } = require('undici');
 * const agent = new Agent({ connect: failFastConnector(buildConnector({}), { timeout: 10_000 }) });
 * ```
 *
 * (undici's own connect timeout, 10 s by default, still governs the
 * handshake; failFast takes over once connected.) Throws for bad options
 * right away, like failFast.
 */
export function failFastConnector(connector: UndiciConnector, options: FailFastOptions): UndiciConnector {
  if (typeof connector !== 'function') {
    throw invalidArgType('connector', 'a function (e.g. undici.buildConnector({}))', connector);
  }
  validateObject('options', options);
  failFastOptions(options.timeout);
  const opts: FailFastOptions = { ...options };
  return function failFastConnect(this: unknown, connectOptions, callback) {
    return connector.call(this, connectOptions, (err, socket) => {
      if (!err && socket) {
        try {
          protect(socket, opts);
        } catch (e) {
          socket.destroy();
          callback(e as Error, null);
          return;
        }
      }
      callback(err, socket);
    });
  };
}
