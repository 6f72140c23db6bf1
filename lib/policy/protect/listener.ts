/**
 * protect({ servers: true }) on a listening socket: Linux copies a listener's
 * SO_KEEPALIVE, TCP_KEEPIDLE/INTVL, TCP_USER_TIMEOUT and TCP_RTO_MAX_MS to
 * every socket it accepts (the child is a clone; test/protect-inherit.test.ts
 * checks each option on the running kernel), so the options are set once, on
 * the listener, and an accepted connection costs no setsockopt.
 *
 * One by one, as before, only: the sockets already in the accept queue when
 * the listener got the options; a connection whose timeout differs from the
 * listener's (match(), protect.scope()); one whose options the application
 * changed before protect() saw it (setKeepAlive in a 'connection' listener);
 * and every accepted socket where Node has no `net.server.listen` channel.
 * A connection the rules exclude gets the listener's original values back.
 */
import type * as net from 'node:net';
import { applyFd, ProtectKernelOptions } from '../../kernel/deathwatch';
import { acceptQueueOf, readInheritedOptions, restoreInheritedOptions } from '../../kernel/inherited';
import type { TcpHandle } from '../../runtime/process-hooks';

const KEY = Symbol.for('tcp-vitals.protect.listener');

/** One listening socket that carries protect()'s options. */
export interface ListenerState {
  readonly owner: object;
  readonly server: net.Server;
  readonly handle: TcpHandle;
  /** The timeout its options are for, ms. */
  readonly timeout: number;
  /** Its values before, in kernel/inherited.ts order (-1: unknown, e.g. TCP_RTO_MAX_MS before Linux 6.15). */
  readonly originals: Int32Array;
  /** What it was given, in kernel/inherited.ts order. */
  readonly applied: Int32Array;
  /** Accepted sockets still to be given the options one by one (they were queued before the listener had them). */
  pending: number;
}

/**
 * Gives `server`'s listening socket the options for `timeout` (once per
 * listening socket, by the first protect() that sees it): its state, or null
 * when another protect() did, or the options cannot be set.
 */
export function prepareListener(owner: object, server: net.Server, handle: TcpHandle, timeout: number,
  o: ProtectKernelOptions): ListenerState | null {
  const s = server as unknown as Record<symbol, ListenerState | undefined>;
  const fd = handle.fd;
  if (s[KEY]?.handle === handle || fd < 0) return null;
  const originals = readInheritedOptions(fd);
  if (applyFd(fd, o) < 0) return null;
  // A connection completed between listen(2) and now was cloned without the options.
  const queued = acceptQueueOf(fd);
  const applied = Int32Array.of(1, o.keepIdleS, o.keepIntervalS, o.userTimeout, originals[4] < 0 ? -1 : o.rtoMax);
  const state: ListenerState = { owner, server, handle, timeout, originals, applied, pending: queued > 0 ? queued + 2 : 0 };
  s[KEY] = state;
  return state;
}

/** The listener state of the server that accepted `socket`, if `owner` gave it the options and `socket` inherited them. */
export function listenerOf(socket: net.Socket, owner: object): ListenerState | null {
  const server = (socket as unknown as { server?: Record<symbol, ListenerState | undefined> | null }).server;
  const l = server ? server[KEY] : undefined;
  if (l === undefined || l.owner !== owner) return null;
  if (l.pending > 0) { l.pending--; return null; }
  return l;
}

/** Puts the listener's original values back on `fd` where they differ from what it carries. */
export function restoreSocket(fd: number, l: ListenerState): void {
  restoreInheritedOptions(fd, l.originals, l.applied);
}

/** protect() stops: the listener (if still open) gets its original values back. */
export function restoreListener(l: ListenerState): void {
  const s = l.server as unknown as Record<symbol, ListenerState | undefined>;
  if (s[KEY] === l) delete s[KEY];
  if (l.handle.fd >= 0) restoreSocket(l.handle.fd, l);
}
