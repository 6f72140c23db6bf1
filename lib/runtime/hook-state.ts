/**
 * The one hook state behind runtime/process-hooks (one per process, shared by
 * every loaded copy of the package), the types its listeners see, and the
 * per-socket listener lists it dispatches to (runtime/socket-hooks adds them).
 */
import * as net from 'node:net';
import { handleOf } from '../kernel/fd';

/** A libuv TCP handle as Node's JS sees it (TCPWrap). */
export interface TcpHandle {
  readonly fd: number;
  /** Node's own flag: true while it reads the handle. */
  readonly reading?: boolean;
  getsockname?(out: Record<string, unknown>): number;
}

/** What a consumer of the hooks implements (all optional; none may throw: errors are reported, not propagated). */
export interface HookListener {
  /** connect()/connect6() on `handle` returned 0: the fd exists and the SYN is out. */
  connected?(handle: TcpHandle, owner: net.Socket | null, address: string, port: number, family: 4 | 6): void;
  /** A server accepted `socket` (after its 'connection' listeners ran). */
  accepted?(socket: net.Socket): void;
  /** setKeepAlive() just changed `handle`'s keepalive options (`enable`, `delaySeconds`: the handle-level arguments). */
  keepAlive?(handle: TcpHandle, enable?: unknown, delaySeconds?: unknown): void;
  /** `socket.setKeepAlive(enable, delayMs)` is being called (the application's own arguments, before Node rounds them). */
  settingKeepAlive?(socket: net.Socket, enable: unknown, delayMs: unknown): void;
  /**
   * `server` is listening on the TCP `handle` (listen(2) just returned; the
   * `net.server.listen` tracing channel, Node 20.17+/22.?; never called where it is missing).
   */
  listening?(server: net.Server, handle: TcpHandle): void;
  /** Node stopped reading `handle` (readStop: a pause, back-pressure, pauseOnConnect). */
  readStopped?(handle: TcpHandle): void;
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
  /**
   * The connect on `handle` completed (libuv's callback, before Node's):
   * `status` 0 = established, else a negative errno. `seconds` from the
   * connect() call to the completion. Only while a listener has this method
   * does a connect take the two timestamps (the metrics collectors add it).
   */
  connectDone?(handle: TcpHandle, owner: net.Socket | null, status: number, seconds: number, address: string, port: number): void;
}

/** Which hooks this Node version allowed. */
export interface HookSupport {
  tcpConnect: boolean;
  tcpKeepAlive: boolean;
  tcpClose: boolean;
  tcpReadStop: boolean;
  serverListen: boolean;
  write: boolean;
  http2Request: boolean;
  destroy: boolean;
  serverChannel: boolean;
  socketKeepAlive: boolean;
}

/** A chunk as handed to the handle (`_writeGeneric`: one per write, or the chunks of a writev). */
export interface WriteChunk {
  readonly chunk: unknown;
  readonly encoding: string;
}

/** One socket's listeners: its writes' chunks (before the handle), a completed write, its `_destroy` (fd still open). */
export type WriteListener = (chunks: readonly WriteChunk[]) => void;
export type WrittenListener = (err: Error | null | undefined) => void;
export type DestroyListener = (err: Error | null) => void;
/** Order of one socket's destroy listeners ('augment', then 'observe'), after the process-wide `destroying` ones. */
export type DestroyPhase = 'augment' | 'observe';

/** Key of one socket's listener lists (shared by every loaded copy of the package). */
export const HOOKS = Symbol.for('tcp-vitals.hooks');

/** The listeners one socket carries under {@link HOOKS} (keep its shape stable: other copies read it). */
export interface SocketListeners {
  readonly version: 1;
  readonly write: WriteListener[];
  readonly written: WrittenListener[];
  readonly destroy: Array<{ phase: DestroyPhase; fn: DestroyListener }>;
}

/** The listeners `socket` carries, if any. */
export function listenersOf(socket: object): SocketListeners | undefined {
  const l = (socket as { [HOOKS]?: SocketListeners })[HOOKS];
  return l && l.version === 1 ? l : undefined;
}

/** Runs each listener in order; one that throws never stops the others (its error is rethrown asynchronously). */
export function each<T extends unknown[]>(fns: ReadonlyArray<(...a: T) => void>, ...args: T): void {
  for (const fn of fns.slice()) {
    try { fn(...args); } catch (err) { report(err); }
  }
}

export interface HookState {
  readonly version: 1;
  readonly listeners: HookListener[];
  readonly support: HookSupport;
  tcpProto: object | null;
  ownerSymbol: symbol | null;
  /**
   * Handles protected by copies of an earlier version (never twice); this
   * version marks the handle itself (process-hooks CLAIMED) and reads both.
   */
  readonly claims: WeakSet<object>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Fn = (this: any, ...args: unknown[]) => unknown;

export function report(err: unknown): void {
  process.nextTick(() => { throw err; });
}

/** The net.Socket that owns `handle` (Node's internal owner_symbol) under state `s`, or null. */
export function ownerIn(s: HookState, handle: object): net.Socket | null {
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

