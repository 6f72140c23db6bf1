/**
 * The process-wide set of connections the package looks after: every socket
 * `protect()` covers and every socket added with `track()`. Producers
 * (protect, track) add and delete; consumers (the Prometheus and
 * OpenTelemetry collectors, `stats()`) iterate. Deaths are published on the
 * `tcp-vitals:death` diagnostics channel as `{ socket, error }`.
 *
 * Holding a socket here keeps it reachable only until it closes: producers
 * delete it on 'close'. One registry per process, shared by every loaded copy
 * of the package (runtime/shared.ts).
 */
import type { Socket } from 'node:net';
import { DEATH_CHANNEL, shared } from './shared';

export { DEATH_CHANNEL };

/** The diagnostics channel of {@link DEATH_CHANNEL} (one per process: runtime/shared). */
export const deathChannel = shared.deathChannel;

/** Message published on {@link DEATH_CHANNEL}. */
export interface DeathMessage {
  readonly socket: Socket;
  /** A PeerGoneError: `reason`, `unacknowledgedBytes`, and `silentMs` when known. */
  readonly error: Error & { reason?: string; silentMs?: number };
}

/** What is known of one registered connection. */
export interface ConnectionMeta {
  /** 'outbound' for a connection this process made, 'inbound' for one it accepted. */
  readonly direction: 'outbound' | 'inbound';
  /** Who registered it. */
  readonly source: 'protect' | 'track';
  /** Peer host as the application named it (or the address), when known. */
  readonly host?: string;
  /** Peer port, when known. */
  readonly port?: number;
  /** Extra labels given to track(). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Shared by every loaded copy of the package (runtime/shared). */
const registered = shared.connections as Map<Socket, ConnectionMeta>;

/** Registers `socket` (replacing earlier metadata for it). */
export function addConnection(socket: Socket, meta: ConnectionMeta): void {
  registered.set(socket, meta);
}

/** Forgets `socket`; true if it was registered. */
export function deleteConnection(socket: Socket): boolean {
  return registered.delete(socket);
}

/** Metadata of `socket`, or undefined. */
export function connectionMeta(socket: Socket): ConnectionMeta | undefined {
  return registered.get(socket);
}

/** Number of registered connections. */
export function connectionCount(): number {
  return registered.size;
}

/** Iterates over registered connections (do not add or delete during it). */
export function connections(): IterableIterator<[Socket, ConnectionMeta]> {
  return registered.entries();
}

/** Publishes a death on {@link DEATH_CHANNEL} (no-op without subscribers). */
export function publishDeath(socket: Socket, error: DeathMessage['error']): void {
  if (deathChannel.hasSubscribers) deathChannel.publish({ socket, error } satisfies DeathMessage);
}
