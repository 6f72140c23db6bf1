/**
 * Every prototype wrap and diagnostics_channel subscription of the package,
 * in one place. They let protect() see each TCP connection of the process at
 * the moment its file descriptor appears, whoever opened it:
 *
 * - `net.Socket.prototype.connect` is wrapped only to reach the TCP handle
 *   class: Node creates `this._handle` synchronously inside connect() (before
 *   any DNS lookup), on every supported version. The first call wraps
 *   `TCP.prototype`.
 * - `TCP.prototype.connect` / `connect6`: right after the original returns 0,
 *   libuv has created the fd (inside uv_tcp_connect) and sent the SYN, in the
 *   caller's synchronous turn and async context. Every happy-eyeballs attempt
 *   (a new handle per attempt), tls.connect, http(s) agents, undici/fetch and
 *   http2.connect go through it.
 * - `TCP.prototype.setKeepAlive`: clients (Node's agents, mysql2, pg) call it
 *   after connect and overwrite the keepalive options.
 * - `net.Socket.prototype.setKeepAlive`: the application's own arguments
 *   (milliseconds, before Node rounds them to seconds), for the
 *   misconfiguration warnings.
 * - `TCP.prototype.close`: the handle (so the fd) is about to go.
 * - `net.Socket.prototype._writeGeneric`: data handed to a socket (so the
 *   peer now owes an ACK); then the write listeners of the socket itself.
 * - `net.Socket.prototype._destroy`: an error Node got from the kernel; then
 *   the destroy listeners of the socket itself (runtime/socket-hooks).
 * - diagnostics_channel `net.server.socket`: an accepted connection.
 * - tracing channel `net.server.listen` (asyncEnd): a TCP server listens.
 * - `TCP.prototype.readStop`: Node stopped reading a handle.
 * - `http2.connect`, to reach `ClientHttp2Session.prototype.request` once:
 *   an HTTP/2 session writes to its socket from C++, so `_writeGeneric` never
 *   sees a request; each request counts as a write to the session's socket.
 *   Wrapped when something else loads node:http2 (runtime/write-hooks), never
 *   loaded here.
 *
 * Feature-tested at load: what a Node version lacks is reported by
 * {@link hookSupport}, never assumed. Installed once per process even when two
 * copies of the package are loaded (state under a Symbol.for key); every copy
 * adds listeners to the same list.
 *
 * Split by concept: runtime/hook-state.ts (the shared state and listener
 * types), runtime/tcp-handle-hooks.ts (the TCP.prototype wraps),
 * runtime/write-hooks.ts (_writeGeneric and http2 write tracking); this module
 * keeps the install (Socket.prototype.connect, _destroy, the server channel)
 * and the public functions, and re-exports the rest.
 */
import * as net from 'node:net';
import * as dc from 'node:diagnostics_channel';
import { each, Fn, HookListener, HookState, HookSupport, listenersOf, ownerIn, report, TcpHandle, tcpHandleOf } from './hook-state';
import { wrapTcp } from './tcp-handle-hooks';
import { wrapHttp2WhenLoaded, wrapWriteGeneric } from './write-hooks';

export type { HookListener, HookSupport, TcpHandle } from './hook-state';
export { tcpHandleOf } from './hook-state';

const STATE_KEY = Symbol.for('tcp-vitals.process-hooks.v1');

/**
 * The one hook state, kept on net.Socket.prototype itself: the wraps live
 * there, so whatever shares the prototype (two loaded copies, or jest's test
 * files, which each get a fresh globalThis but the same `net`) shares the
 * state and installs the wraps once.
 */
function state(): HookState {
  const g = net.Socket.prototype as unknown as Record<symbol, HookState | undefined>;
  let s = g[STATE_KEY];
  if (!s) {
    s = {
      version: 1, listeners: [], tcpProto: null, ownerSymbol: null, claims: new WeakSet(),
      support: {
        tcpConnect: false, tcpKeepAlive: false, tcpClose: false, tcpReadStop: false, serverListen: false, write: false, http2Request: false,
        destroy: false, serverChannel: false, socketKeepAlive: false,
      },
    };
    Object.defineProperty(g, STATE_KEY, { value: s, enumerable: false });
    install(s);
  }
  return s;
}

/** The net.Socket that owns `handle` (Node's internal owner_symbol), or null. */
export function ownerOf(handle: object): net.Socket | null {
  return ownerIn(state(), handle);
}

function install(s: HookState): void {
  const SP = net.Socket.prototype as unknown as Record<string, Fn>;
  const L = s.listeners;
  const connect = SP.connect;
  SP.connect = function (this: net.Socket, ...args: unknown[]) {
    if (s.tcpProto) return connect.apply(this, args);
    const r = connect.apply(this, args);
    const h = tcpHandleOf(this);
    if (h && !s.tcpProto) {
      wrapTcp(s, h);
      // A lookup that called back synchronously connected before the wrap:
      // late, but the SYN timeout is still bounded (checked at each retransmission).
      if (s.tcpProto && h.fd >= 0 && this.connecting) {
        const remote = this as unknown as { _host?: string; remotePort?: number };
        for (const l of L) {
          try { l.connected?.(h, ownerOf(h as object) ?? this, String(remote._host ?? ''), Number(remote.remotePort ?? 0), 4); } catch (e) { report(e); }
        }
      }
    }
    return r;
  };
  wrapWriteGeneric(s, SP);
  const destroy = SP._destroy;
  if (typeof destroy === 'function') {
    // Fixed arity (Node's _destroy(err, cb)): no rest array per destroyed socket.
    SP._destroy = function (this: net.Socket, error: unknown, cb: unknown) {
      // Any object: an error Node made in another realm (a vm context, jest) is no `instanceof Error` here.
      const err = typeof error === 'object' && error !== null ? error as Error : null;
      if (err) {
        for (const l of L) {
          try { l.destroying?.(this, err); } catch (e) { report(e); }
        }
      }
      const own = listenersOf(this);
      if (own && own.destroy.length) {
        const e = err;
        each(own.destroy.filter((d) => d.phase === 'augment').map((d) => d.fn), e);
        each(own.destroy.filter((d) => d.phase === 'observe').map((d) => d.fn), e);
      }
      return destroy.call(this, error, cb);
    };
    s.support.destroy = true;
  }
  const setKeepAlive = SP.setKeepAlive;
  if (typeof setKeepAlive === 'function') {
    SP.setKeepAlive = function (this: net.Socket, ...args: unknown[]) {
      for (const l of L) {
        try { l.settingKeepAlive?.(this, args[0], args[1]); } catch (e) { report(e); }
      }
      return setKeepAlive.apply(this, args);
    };
    s.support.socketKeepAlive = true;
  }
  wrapHttp2WhenLoaded(s);
  try {
    dc.subscribe('net.server.socket', (message) => {
      const socket = (message as { socket?: unknown }).socket;
      if (!(socket instanceof net.Socket)) return;
      if (!s.tcpProto) { const h = tcpHandleOf(socket); if (h) wrapTcp(s, h); } // a server that listened before the hooks
      for (const l of L) {
        try { l.accepted?.(socket); } catch (e) { report(e); }
      }
    });
    s.support.serverChannel = true;
  } catch {
    // diagnostics_channel.subscribe is missing (Node < 18.7): servers are not covered.
  }
  subscribeListen(s);
}

/**
 * The `net.server.listen` tracing channel's asyncEnd is published right after
 * listen(2) returns, with `server._handle` the listening handle: the TCP
 * prototype is wrapped there (so close/readStop/setKeepAlive of accepted
 * sockets are seen from the first one) and listeners see the listener.
 */
function subscribeListen(s: HookState): void {
  const tracing = (dc as { tracingChannel?: (name: string) => { asyncEnd: { subscribe(fn: (m: unknown) => void): void } } }).tracingChannel;
  if (typeof tracing !== 'function') return;
  try {
    tracing('net.server.listen').asyncEnd.subscribe((message) => {
      const server = (message as { server?: unknown }).server;
      if (!(server instanceof net.Server)) return;
      const h = (server as unknown as { _handle?: unknown })._handle as TcpHandle | null | undefined;
      if (!h || typeof h.fd !== 'number' || h.fd < 0) return; // a pipe, or a cluster worker's round-robin stand-in
      if (!s.tcpProto) wrapTcp(s, h);
      if (Object.getPrototypeOf(h) !== s.tcpProto) return;
      s.support.serverListen = true;
      for (const l of s.listeners) {
        try { l.listening?.(server, h); } catch (e) { report(e); }
      }
    });
  } catch {
    // No such channel (older Node): accepted sockets get their options one by one.
  }
}

/**
 * Adds `listener` (process-wide, shared by every loaded copy of the package);
 * with `first`, ahead of the others (failFast's guard: a socket's own
 * settings are claimed before any process-wide rule sees the handle).
 */
export function addHookListener(listener: HookListener, first = false): void {
  const s = state();
  if (s.listeners.includes(listener)) return;
  if (first) s.listeners.unshift(listener);
  else s.listeners.push(listener);
}

/**
 * Installs the hooks (idempotent: for runtime/socket-hooks, whose listeners
 * they dispatch) and, from a socket's TCP `handle`, the TCP handle wraps (for
 * a socket whose connect() ran before any hook was installed).
 */
export function installHooks(handle?: object): void {
  const s = state();
  if (handle && !s.tcpProto) wrapTcp(s, handle);
}

/** A removed listener's place until the hook iterating the list is done. */
const REMOVED: HookListener = Object.freeze({});

/**
 * Removes `listener`; true if it was there. A hook may be iterating the list
 * right now (a listener stopping itself from inside one: protect()'s match()
 * calling stop()), so its place is taken by an empty listener and the list is
 * compacted in a microtask: the listeners after it are not shifted past.
 */
export function removeHookListener(listener: HookListener): boolean {
  const L = state().listeners;
  const at = L.indexOf(listener);
  if (at < 0) return false;
  L[at] = REMOVED;
  queueMicrotask(() => {
    for (let i = L.length - 1; i >= 0; i--) if (L[i] === REMOVED) L.splice(i, 1);
  });
  return true;
}

/** Which hooks are in place (the TCP ones appear with the first outbound connect). */
export function hookSupport(): Readonly<HookSupport> {
  return { ...state().support };
}

/**
 * The claim mark: a property of the handle under a `Symbol.for` key, so every
 * loaded copy sees it. (A WeakSet of claimed handles, one entry per
 * connection, cost a server about 3 % of its CPU per new-connection request:
 * the ephemeron table's growth and its processing in every scavenge.) The
 * state's `claims` WeakSet stays for copies of an earlier version, which
 * still add to it, and is still consulted.
 */
const CLAIMED = Symbol.for('tcp-vitals.claimed');

/** Marks `handle` as protected; false if it already was (by this or another copy of the package). */
export function claimHandle(handle: object): boolean {
  if (isClaimed(handle)) return false;
  (handle as Record<symbol, boolean>)[CLAIMED] = true;
  return true;
}

/** Whether `handle` is claimed. */
export function isClaimed(handle: object): boolean {
  return (handle as Record<symbol, unknown>)[CLAIMED] === true || state().claims.has(handle);
}

/**
 * A per-socket policy is taking `socket` over (failFast calls this): whoever
 * protects it stops looking after it and stops re-applying its options. The
 * claim stays, so it is not protected again.
 */
export function handOver(socket: net.Socket): void {
  const h = tcpHandleOf(socket);
  if (!h || !isClaimed(h)) return;
  for (const l of state().listeners) {
    try { l.handedOver?.(h); } catch (e) { report(e); }
  }
}
