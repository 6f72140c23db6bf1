/**
 * Listeners on one net.Socket (acked/retain, watch): typed callbacks for its
 * writes and its destruction. Nothing is patched on the socket: the lists sit
 * under `Symbol.for('tcp-vitals.hooks')` (shared by two loaded copies), and
 * the one hook dispatcher, runtime/process-hooks, calls them from its
 * `net.Socket.prototype._writeGeneric` and `_destroy` wraps (`_destroy` runs
 * inside destroy(), fd still open, before 'error'). Node internals are
 * feature-tested at load ({@link internals}).
 */
import * as net from 'node:net';
import { Writable } from 'node:stream';
import {
  DestroyListener, DestroyPhase, HOOKS, listenersOf, SocketListeners, WriteChunk, WriteListener, WrittenListener,
} from './hook-state';
import { installHooks } from './process-hooks';

export { HOOKS } from './hook-state';
export type { DestroyListener, DestroyPhase, WriteChunk, WriteListener, WrittenListener } from './hook-state';

const proto = net.Socket.prototype as unknown as Record<string, unknown>;

/** Which Node internals this Node offers (feature-tested at load). */
export const internals = {
  write: typeof proto._write === 'function',
  writev: typeof proto._writev === 'function',
  destroy: typeof proto._destroy === 'function',
  writableBuffer: Object.getOwnPropertyDescriptor(Writable.prototype, 'writableBuffer')?.get !== undefined,
  /** `socket.server` on accepted sockets: Node sets it in onconnection (own property, checked lazily). */
  server: true,
};

/** The listener lists of `socket`, created (and the dispatcher installed) on first use. */
function listsOf(socket: net.Socket): SocketListeners {
  const existing = listenersOf(socket);
  if (existing) return existing;
  installHooks();
  const lists: SocketListeners = { version: 1, write: [], written: [], destroy: [] };
  Object.defineProperty(socket, HOOKS, { value: lists, enumerable: false, configurable: true });
  return lists;
}

const remover = <T>(list: T[], item: T) => (): void => {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
};

/** Calls `fn` with the chunks of every write of `socket`. Returns the unsubscribe function. */
export function onWrite(socket: net.Socket, fn: WriteListener): () => void {
  const list = listsOf(socket).write;
  list.push(fn);
  return remover(list, fn);
}

/** Calls `fn` after every completed write of `socket`. Returns the unsubscribe function. */
export function onWritten(socket: net.Socket, fn: WrittenListener): () => void {
  const list = listsOf(socket).written;
  list.push(fn);
  return remover(list, fn);
}

/**
 * Calls `fn` when `socket` is destroyed, in `_destroy` (the fd still open,
 * before 'error'). Listeners run in phase order, then registration order;
 * each in its own try/catch. Returns the unsubscribe function.
 */
export function onDestroy(socket: net.Socket, fn: DestroyListener, phase: DestroyPhase = 'observe'): () => void {
  const list = listsOf(socket).destroy;
  const entry = { phase, fn };
  list.push(entry);
  return remover(list, entry);
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
