/**
 * The process-wide set of connections the package looks after: every socket
 * `protect()` covers and every socket added with `track()`. Producers
 * (protect, track) add and delete; consumers (the Prometheus and
 * OpenTelemetry collectors, `stats()`) iterate. Deaths are published on the
 * `tcp-vitals:death` diagnostics channel as `{ socket, error }`.
 *
 * Holding a socket here keeps it reachable only until it closes: producers
 * delete it on 'close'.
 */
import { channel } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/** Name of the diagnostics channel every detected death is published on. */
export const DEATH_CHANNEL = 'tcp-vitals:death';

/** The diagnostics channel of {@link DEATH_CHANNEL}. */
export const deathChannel = channel(DEATH_CHANNEL);

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

const registered = new Map<Socket, ConnectionMeta>();

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
