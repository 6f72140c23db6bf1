/**
 * The one module that patches an individual net.Socket. Every feature that
 * needs to see a socket's writes or its destruction (acked/retain, failFast)
 * registers a typed callback here; the patches themselves are installed once
 * per socket, keyed on a `Symbol.for('tcp-vitals.hooks')` property, so two
 * features, or two loaded copies of the package, share one set of patches.
 *
 * Patched: own `_write`, `_writev` and `_destroy` properties that call the
 * previous own property, or else the prototype's method looked up at call
 * time (so a later patch of `Socket.prototype._destroy` still runs). Nothing
 * shadows `destroy`: an APM wrap of `Socket.prototype.destroy` sees every
 * socket. `_destroy` runs inside destroy(), before the handle (and so the fd)
 * is closed and before 'error' is emitted.
 *
 * The Node internals relied on are feature-tested when this module loads
 * ({@link internals}).
 */
import * as net from 'node:net';
import { Writable } from 'node:stream';

/** A chunk as handed to `_write` / `_writev`. */
export interface WriteChunk {
  readonly chunk: unknown;
  readonly encoding: string;
}

/** Called with the chunks of each `_write` / `_writev`, before they go to the handle. */
export type WriteListener = (chunks: readonly WriteChunk[]) => void;
/** Called after a `_write` / `_writev` completed (its callback ran). */
export type WrittenListener = (err: Error | null | undefined) => void;
/** Called in `_destroy`, fd still open, with the error the socket is destroyed with (null if none). */
export type DestroyListener = (err: Error | null) => void;

/**
 * Order of destroy listeners: 'augment' listeners run first (they complete
 * the error, e.g. failFast naming a reason), then 'observe' ones (which read
 * what the error says, e.g. the delivery tracker's final reading).
 */
export type DestroyPhase = 'augment' | 'observe';

type WriteFn = (chunk: unknown, encoding: string, cb: (err?: Error | null) => void) => void;
type WritevFn = (chunks: Array<{ chunk: unknown; encoding: string }>, cb: (err?: Error | null) => void) => void;
type DestroyFn = (err: Error | null, cb: (err: Error | null) => void) => void;

/** The per-socket state shared by every copy of the package (keep its shape stable). */
interface HookState {
  readonly version: 1;
  readonly write: WriteListener[];
  readonly written: WrittenListener[];
  readonly destroy: Array<{ phase: DestroyPhase; fn: DestroyListener }>;
}

/** Key of the installed state on each patched socket. */
export const HOOKS = Symbol.for('tcp-vitals.hooks');

type Hooked = net.Socket & { [HOOKS]?: HookState; _write: WriteFn; _writev?: WritevFn; _destroy: DestroyFn };

const proto = net.Socket.prototype as unknown as Record<string, unknown>;

/** Which Node internals this Node offers (feature-tested at load; `handleFd` at the first connected socket). */
export const internals = {
  write: typeof proto._write === 'function',
  writev: typeof proto._writev === 'function',
  destroy: typeof proto._destroy === 'function',
  writableBuffer: Object.getOwnPropertyDescriptor(Writable.prototype, 'writableBuffer')?.get !== undefined,
  /** `socket.server` on accepted sockets: Node sets it in onconnection (own property, checked lazily). */
  server: true,
  /** `socket._handle.fd` a number on a connected socket; null until a connected socket was seen. */
  handleFd: null as boolean | null,
};

/** Runs each listener in order; one that throws never stops the others (its error is rethrown asynchronously). */
function each<T extends unknown[]>(fns: ReadonlyArray<(...a: T) => void>, ...args: T): void {
  for (const fn of fns.slice()) {
    try {
      fn(...args);
    } catch (err) {
      process.nextTick(() => { throw err; });
    }
  }
}

/** Calls the previous own method, else the prototype's current one. */
function previous<F extends (...a: never[]) => unknown>(socket: Hooked, name: '_write' | '_writev' | '_destroy'): () => F {
  const own = Object.prototype.hasOwnProperty.call(socket, name) ? (socket as unknown as Record<string, F>)[name] : undefined;
  return own ? () => own : () => Object.getPrototypeOf(socket)[name] as F;
}

function install(socket: Hooked): HookState {
  const state: HookState = { version: 1, write: [], written: [], destroy: [] };
  Object.defineProperty(socket, HOOKS, { value: state, enumerable: false, configurable: true });
  if (internals.write) {
    const write = previous<WriteFn>(socket, '_write');
    socket._write = function (this: Hooked, chunk, encoding, cb) {
      if (state.write.length) each(state.write, [{ chunk, encoding }]);
      write().call(this, chunk, encoding, state.written.length ? completed(state, cb) : (cb as never));
    } as WriteFn;
  }
  if (internals.writev) {
    const writev = previous<WritevFn>(socket, '_writev');
    socket._writev = function (this: Hooked, chunks, cb) {
      if (state.write.length) each(state.write, chunks.map(asChunk));
      writev().call(this, chunks, state.written.length ? completed(state, cb) : (cb as never));
    } as WritevFn;
  }
  if (internals.destroy) {
    const destroy = previous<DestroyFn>(socket, '_destroy');
    socket._destroy = function (this: Hooked, err, cb) {
      const d = state.destroy;
      if (d.length) {
        each(d.filter((l) => l.phase === 'augment').map((l) => l.fn), err);
        each(d.filter((l) => l.phase === 'observe').map((l) => l.fn), err);
      }
      destroy().call(this, err, cb);
    } as DestroyFn;
  }
  return state;
}

function completed(state: HookState, cb: (err?: Error | null) => void) {
  return (err?: Error | null): void => {
    cb(err);
    each(state.written, err);
  };
}

/** _writev gets `{ chunk, encoding }` entries, or bare Buffers when every chunk is a Buffer (allBuffers). */
function asChunk(e: { chunk: unknown; encoding: string } | Buffer): WriteChunk {
  return Buffer.isBuffer(e) ? { chunk: e, encoding: 'buffer' } : e;
}

/** The shared hook state of `socket`, patches installed on first use. */
function hooksOf(socket: net.Socket): HookState {
  const s = socket as Hooked;
  const existing = s[HOOKS];
  if (existing && existing.version === 1) return existing;
  if (internals.handleFd === null) noteHandle(socket);
  return install(s);
}

function noteHandle(socket: net.Socket): void {
  const handle = (socket as unknown as { _handle?: { fd?: unknown; _parent?: { fd?: unknown } } | null })._handle;
  if (handle && !socket.connecting) internals.handleFd = typeof (handle.fd ?? handle._parent?.fd) === 'number';
}

const remover = <T>(list: T[], item: T) => (): void => {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
};

/** Calls `fn` with the chunks of every write of `socket`. Returns the unsubscribe function. */
export function onWrite(socket: net.Socket, fn: WriteListener): () => void {
  const list = hooksOf(socket).write;
  list.push(fn);
  return remover(list, fn);
}

/** Calls `fn` after every completed write of `socket`. Returns the unsubscribe function. */
export function onWritten(socket: net.Socket, fn: WrittenListener): () => void {
  const list = hooksOf(socket).written;
  list.push(fn);
  return remover(list, fn);
}

/**
 * Calls `fn` when `socket` is destroyed, in `_destroy` (the fd still open,
 * before 'error'). Listeners run in phase order, then registration order;
 * each in its own try/catch. Returns the unsubscribe function.
 */
export function onDestroy(socket: net.Socket, fn: DestroyListener, phase: DestroyPhase = 'observe'): () => void {
  const list = hooksOf(socket).destroy;
  const entry = { phase, fn };
  list.push(entry);
  return remover(list, entry);
}

/** Whether `socket` carries the package's patches (from this copy or another). */
export function isHooked(socket: net.Socket): boolean {
  return (socket as Hooked)[HOOKS] !== undefined;
}

/** Chunks still queued in Node's Writable (not yet handed to _write), in order; [] if unavailable. */
export function userlandBuffered(socket: net.Socket): ReadonlyArray<WriteChunk> {
  if (!internals.writableBuffer) return [];
  const pending = (socket as net.Socket & { writableBuffer?: WriteChunk[] }).writableBuffer;
  return Array.isArray(pending) ? pending : [];
}

/** Whether a server accepted `socket` (Node sets `socket.server` on accepted sockets). */
export function isAccepted(socket: net.Socket): boolean {
  return Boolean((socket as net.Socket & { server?: unknown }).server);
}
