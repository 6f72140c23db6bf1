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
 * - `TCP.prototype.close`: the handle (so the fd) is about to go.
 * - `net.Socket.prototype._writeGeneric`: data handed to a socket (so the
 *   peer now owes an ACK).
 * - `net.Socket.prototype._destroy`: an error Node got from the kernel.
 * - diagnostics_channel `net.server.socket`: an accepted connection.
 * - `http2.connect`, to reach `ClientHttp2Session.prototype.request` once:
 *   an HTTP/2 session writes to its socket from C++, so `_writeGeneric` never
 *   sees a request; each request counts as a write to the session's socket.
 *
 * Feature-tested at load: what a Node version lacks is reported by
 * {@link hookSupport}, never assumed. Installed once per process even when two
 * copies of the package are loaded (state under a Symbol.for key); every copy
 * adds listeners to the same list.
 */
import * as net from 'node:net';
import { subscribe } from 'node:diagnostics_channel';
import { handleOf } from '../kernel/fd';

/** A libuv TCP handle as Node's JS sees it (TCPWrap). */
export interface TcpHandle {
  readonly fd: number;
  getsockname?(out: Record<string, unknown>): number;
}

/** What a consumer of the hooks implements (all optional; none may throw: errors are reported, not propagated). */
export interface HookListener {
  /** connect()/connect6() on `handle` returned 0: the fd exists and the SYN is out. */
  connected?(handle: TcpHandle, owner: net.Socket | null, address: string, port: number, family: 4 | 6): void;
  /** A server accepted `socket` (after its 'connection' listeners ran). */
  accepted?(socket: net.Socket): void;
  /** setKeepAlive() just changed `handle`'s keepalive options. */
  keepAlive?(handle: TcpHandle): void;
  /** `handle` is being closed (its fd is still open). */
  closing?(handle: TcpHandle): void;
  /** The application wrote to `socket`. */
  writing?(socket: net.Socket): void;
  /** `socket` is being destroyed with `error`. */
  destroying?(socket: net.Socket, error: Error): void;
  /**
   * `handle` connected without a known owner at connect() time (Node 18's
   * happy-eyeballs attempts get theirs only when they win): here it is.
   */
  adopted?(handle: TcpHandle, owner: net.Socket): void;
  /** A per-socket policy (failFast) takes `handle` over: stop looking after it. */
  handedOver?(handle: TcpHandle): void;
}

/** Which hooks this Node version allowed. */
export interface HookSupport {
  tcpConnect: boolean;
  tcpKeepAlive: boolean;
  tcpClose: boolean;
  write: boolean;
  http2Request: boolean;
  destroy: boolean;
  serverChannel: boolean;
}

interface HookState {
  readonly version: 1;
  readonly listeners: HookListener[];
  readonly support: HookSupport;
  tcpProto: object | null;
  ownerSymbol: symbol | null;
  /** Handles some listener (of any loaded copy) protects: never twice. */
  readonly claims: WeakSet<object>;
}

const STATE_KEY = Symbol.for('tcp-vitals.process-hooks.v1');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = (this: any, ...args: unknown[]) => unknown;

function report(err: unknown): void {
  process.nextTick(() => { throw err; });
}

function state(): HookState {
  const g = globalThis as unknown as Record<symbol, HookState | undefined>;
  let s = g[STATE_KEY];
  if (!s) {
    s = {
      version: 1, listeners: [], tcpProto: null, ownerSymbol: null, claims: new WeakSet(),
      support: { tcpConnect: false, tcpKeepAlive: false, tcpClose: false, write: false, http2Request: false, destroy: false, serverChannel: false },
    };
    Object.defineProperty(g, STATE_KEY, { value: s, enumerable: false });
    install(s);
  }
  return s;
}

/** The net.Socket that owns `handle` (Node's internal owner_symbol), or null. */
export function ownerOf(handle: object): net.Socket | null {
  const s = state();
  if (!s.ownerSymbol) {
    s.ownerSymbol = Object.getOwnPropertySymbols(handle).find((k) => k.description === 'owner_symbol') ?? null;
    if (!s.ownerSymbol) return null;
  }
  const owner = (handle as Record<symbol, unknown>)[s.ownerSymbol];
  return owner instanceof net.Socket ? owner : null;
}

/**
 * The TCP handle under a socket (the parent of a TLSWrap, never the TLSWrap:
 * the connect/close wraps, the claims and protect()'s table know the TCP
 * handle), or null.
 */
export function tcpHandleOf(socket: net.Socket): TcpHandle | null {
  const h = handleOf(socket) as { fd?: unknown } | null;
  return h && typeof h.fd === 'number' ? (h as unknown as TcpHandle) : null;
}

function wrapTcp(s: HookState, handle: object): void {
  const proto = Object.getPrototypeOf(handle) as Record<string, Fn> | null;
  if (!proto || s.tcpProto || proto.constructor?.name !== 'TCP') return;
  s.tcpProto = proto;
  const L = s.listeners;
  for (const [name, family] of [['connect', 4], ['connect6', 6]] as const) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    proto[name] = function (this: TcpHandle, ...args: unknown[]) {
      const err = original.apply(this, args);
      if (err === 0 && L.length > 0) {
        const owner = ownerOf(this);
        for (const l of L) {
          try { l.connected?.(this, owner, String(args[1]), Number(args[2]), family); } catch (e) { report(e); }
        }
        const req = args[0] as { oncomplete?: Fn } | null;
        if (!owner && req && typeof req.oncomplete === 'function') {
          // Transient (until the attempt completes), and only where Node gives no owner yet.
          const handle = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the attempt handle, read inside oncomplete
          const complete = req.oncomplete;
          req.oncomplete = function (this: unknown, ...a: unknown[]) {
            const r = complete.apply(this, a);
            const adopted = ownerOf(handle);
            if (adopted) {
              for (const l of L) {
                try { l.adopted?.(handle, adopted); } catch (e) { report(e); }
              }
            }
            return r;
          };
        }
      }
      return err;
    };
    s.support.tcpConnect = true;
  }
  const keepAlive = proto.setKeepAlive;
  if (typeof keepAlive === 'function') {
    proto.setKeepAlive = function (this: TcpHandle, ...args: unknown[]) {
      const r = keepAlive.apply(this, args);
      for (const l of L) {
        try { l.keepAlive?.(this); } catch (e) { report(e); }
      }
      return r;
    };
    s.support.tcpKeepAlive = true;
  }
  const close = proto.close; // inherited from HandleWrap; the wrap shadows it for TCP only
  if (typeof close === 'function') {
    proto.close = function (this: TcpHandle, ...args: unknown[]) {
      for (const l of L) {
        try { l.closing?.(this); } catch (e) { report(e); }
      }
      return close.apply(this, args);
    };
    s.support.tcpClose = true;
  }
}

function wrapHttp2(s: HookState): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http2 = require('node:http2') as Record<string, Fn>;
  const connect = http2.connect;
  if (typeof connect !== 'function') return;
  const L = s.listeners;
  let wrapped = false;
  http2.connect = function (this: unknown, ...args: unknown[]) {
    const session = connect.apply(this, args) as { socket?: net.Socket } | null;
    const proto = session ? Object.getPrototypeOf(session) as Record<string, Fn> : null;
    if (!wrapped && proto && typeof proto.request === 'function') {
      wrapped = true;
      const request = proto.request;
      proto.request = function (this: { socket?: net.Socket; destroyed?: boolean }, ...a: unknown[]) {
        if (L.length > 0 && !this.destroyed) {
          const socket = this.socket; // a Proxy that still reads through to the socket's _handle
          if (socket) {
            for (const l of L) {
              try { l.writing?.(socket); } catch (e) { report(e); }
            }
          }
        }
        return request.apply(this, a);
      };
      s.support.http2Request = true;
    }
    return session;
  };
  // ESM named imports of node:http2 see the wrapped connect too.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('node:module') as { syncBuiltinESMExports?: () => void }).syncBuiltinESMExports?.();
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
  const writeGeneric = SP._writeGeneric;
  if (typeof writeGeneric === 'function') {
    SP._writeGeneric = function (this: net.Socket, ...args: unknown[]) {
      for (const l of L) {
        try { l.writing?.(this); } catch (e) { report(e); }
      }
      return writeGeneric.apply(this, args);
    };
    s.support.write = true;
  }
  const destroy = SP._destroy;
  if (typeof destroy === 'function') {
    SP._destroy = function (this: net.Socket, ...args: unknown[]) {
      const err = args[0];
      if (err instanceof Error) {
        for (const l of L) {
          try { l.destroying?.(this, err); } catch (e) { report(e); }
        }
      }
      return destroy.apply(this, args);
    };
    s.support.destroy = true;
  }
  wrapHttp2(s);
  try {
    subscribe('net.server.socket', (message) => {
      const socket = (message as { socket?: unknown }).socket;
      if (!(socket instanceof net.Socket)) return;
      for (const l of L) {
        try { l.accepted?.(socket); } catch (e) { report(e); }
      }
    });
    s.support.serverChannel = true;
  } catch {
    // diagnostics_channel.subscribe is missing (Node < 18.7): servers are not covered.
  }
}

/** Adds `listener` (process-wide, shared by every loaded copy of the package). */
export function addHookListener(listener: HookListener): void {
  const s = state();
  if (!s.listeners.includes(listener)) s.listeners.push(listener);
}

/** Removes `listener`; true if it was there. */
export function removeHookListener(listener: HookListener): boolean {
  const L = state().listeners;
  const at = L.indexOf(listener);
  if (at < 0) return false;
  L.splice(at, 1);
  return true;
}

/** Which hooks are in place (the TCP ones appear with the first outbound connect). */
export function hookSupport(): Readonly<HookSupport> {
  return { ...state().support };
}

/** Marks `handle` as protected; false if it already was (by this or another copy of the package). */
export function claimHandle(handle: object): boolean {
  const claims = state().claims;
  if (claims.has(handle)) return false;
  claims.add(handle);
  return true;
}

/** Whether `handle` is claimed. */
export function isClaimed(handle: object): boolean {
  return state().claims.has(handle);
}

/**
 * A per-socket policy is taking `socket` over (failFast calls this): whoever
 * protects it stops looking after it and stops re-applying its options. The
 * claim stays, so it is not protected again.
 */
export function handOver(socket: net.Socket): void {
  const h = tcpHandleOf(socket);
  if (!h || !state().claims.has(h)) return;
  for (const l of state().listeners) {
    try { l.handedOver?.(h); } catch (e) { report(e); }
  }
}
