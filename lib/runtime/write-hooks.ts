/**
 * Write tracking for runtime/process-hooks: `net.Socket.prototype._writeGeneric`
 * (data handed to a socket, so the peer now owes an ACK) and, through
 * `http2.connect`, `ClientHttp2Session.prototype.request` (an HTTP/2 session
 * writes to its socket from C++, so `_writeGeneric` never sees a request; each
 * request counts as a write to the session's socket).
 */
import type * as net from 'node:net';
import { each, Fn, HookState, listenersOf, report, SocketListeners, WriteChunk } from './hook-state';

/** The chunks of one `_writeGeneric(writev, data, encoding)` call (a writev of Buffers gives bare Buffers: allBuffers). */
function chunksOf(writev: unknown, data: unknown, encoding: unknown): WriteChunk[] {
  if (!writev || !Array.isArray(data)) return [{ chunk: data, encoding: String(encoding) }];
  return data.map((e: { chunk: unknown; encoding: string } | Buffer) => (Buffer.isBuffer(e) ? { chunk: e, encoding: 'buffer' } : e));
}

function completed(own: SocketListeners, cb: (err?: Error | null) => void) {
  return (err?: Error | null): void => {
    cb(err);
    each(own.written, err);
  };
}

/**
 * Wraps `_writeGeneric` on the Socket prototype `SP`: the process-wide
 * `writing` listeners, then the socket's own write listeners (once per write:
 * a write issued while connecting is dispatched when Node retries it on 'connect').
 */
export function wrapWriteGeneric(s: HookState, SP: Record<string, Fn>): void {
  const L = s.listeners;
  const writeGeneric = SP._writeGeneric;
  if (typeof writeGeneric === 'function') {
    // Fixed arity (_writeGeneric(writev, data, encoding, cb)): no rest array per write.
    SP._writeGeneric = function (this: net.Socket, writev: unknown, data: unknown, encoding: unknown, cb: unknown) {
      for (const l of L) {
        try { l.writing?.(this); } catch (e) { report(e); }
      }
      const own = listenersOf(this);
      if (own && !this.connecting) {
        if (own.write.length) each(own.write, chunksOf(writev, data, encoding));
        if (own.written.length && typeof cb === 'function') cb = completed(own, cb as (err?: Error | null) => void);
      }
      return writeGeneric.call(this, writev, data, encoding, cb);
    };
    s.support.write = true;
  }
}

/** Whether http2.connect is wrapped (or being wrapped) in this realm. */
let http2Wrapped = false;
/** process.moduleLoadList's length at the last look (ESM imports and getBuiltinModule bypass Module._load). */
let seenModules = 0;

function http2Loaded(): boolean {
  const list = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList;
  if (!Array.isArray(list)) return false;
  if (list.length === seenModules) return false;
  seenModules = list.length;
  return list.includes('NativeModule http2');
}

/**
 * Wraps http2.connect once something loads node:http2, never loading it here:
 * node:http2 brings about 50 builtin modules (crypto, tls, zlib...) and 2 MB of
 * memory into every process, most of which never speak HTTP/2. A CommonJS
 * require of it (grpc-js, got, the application's own) is seen as it returns,
 * through Module._load; an ESM import (or process.getBuiltinModule) is seen at
 * the next outbound connect ({@link noticeHttp2}), so the sessions of the very
 * first http2.connect() made that way have their requests untracked (the
 * kernel's own timeout and the deathwatch still hold for them).
 */
export function wrapHttp2WhenLoaded(s: HookState): void {
  if (http2Loaded()) { wrapHttp2(s); return; }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Module = require('node:module') as { _load?: Fn };
  const load = Module._load;
  if (typeof load !== 'function') return;
  Module._load = function (this: unknown, request: unknown) {
    // eslint-disable-next-line prefer-rest-params
    const r = load.apply(this, arguments as unknown as unknown[]);
    if (!http2Wrapped && (request === 'http2' || request === 'node:http2')) wrapHttp2(s);
    return r;
  };
}

/** An outbound connect: wraps http2 if it was loaded by a way Module._load does not see (cheap: a length compare). */
export function noticeHttp2(s: HookState): void {
  if (!http2Wrapped && http2Loaded()) wrapHttp2(s);
}

export function wrapHttp2(s: HookState): void {
  if (http2Wrapped) return;
  http2Wrapped = true;
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

