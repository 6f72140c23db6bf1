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

/**
 * A producer that keeps its own fd-indexed table of connections (protect()):
 * iterated along with the map, never copied into it. Holding every new
 * connection in a Map made V8 promote its sockets to the old generation
 * (measured: 12x the promoted bytes, the young generation doubled, two
 * mark-compacts per 3,000 connections); arrays indexed by fd do not.
 */
export interface ConnectionSource {
  /** The live connections it holds, with their metadata. */
  connectionEntries(): IterableIterator<[Socket, ConnectionMeta]>;
  /** The metadata of `socket` if it holds it. */
  connectionMetaOf(socket: Socket): ConnectionMeta | undefined;
}

/** Shared by every loaded copy too: a collector of one copy counts the other's protect(). */
const sources = shared.sources as ConnectionSource[];

/** Adds a producer's own table to the registry. */
export function addConnectionSource(source: ConnectionSource): void {
  if (!sources.includes(source)) sources.push(source);
}

/** Removes it. */
export function removeConnectionSource(source: ConnectionSource): void {
  const at = sources.indexOf(source);
  if (at >= 0) sources.splice(at, 1);
}

/** Registers `socket` (replacing earlier metadata for it). */
export function addConnection(socket: Socket, meta: ConnectionMeta): void {
  registered.set(socket, meta);
}

/** Forgets `socket`; true if it was registered. */
export function deleteConnection(socket: Socket): boolean {
  return registered.delete(socket);
}

/** Forgets `socket` if the map holds it with metadata from `source`. */
export function deleteConnectionOf(socket: Socket, source: ConnectionMeta['source']): void {
  if (registered.size > 0 && registered.get(socket)?.source === source) registered.delete(socket);
}

/** Metadata of `socket`, or undefined (the map's entry first: it carries track()'s labels). */
export function connectionMeta(socket: Socket): ConnectionMeta | undefined {
  const m = registered.get(socket);
  if (m !== undefined || sources.length === 0) return m;
  for (const s of sources) {
    const x = s.connectionMetaOf(socket);
    if (x !== undefined) return x;
  }
  return undefined;
}

/** Number of registered connections. */
export function connectionCount(): number {
  if (sources.length === 0) return registered.size;
  let n = 0;
  for (const _ of connections()) n++;
  return n;
}

/** Iterates over registered connections, each once (do not add or delete during it). */
export function* connections(): IterableIterator<[Socket, ConnectionMeta]> {
  yield* registered.entries();
  const seen = sources.length > 1 ? new Set<Socket>() : null;
  for (const s of sources) {
    for (const entry of s.connectionEntries()) {
      if (registered.has(entry[0]) || seen?.has(entry[0])) continue;
      seen?.add(entry[0]);
      yield entry;
    }
  }
}

/** Publishes a death on {@link DEATH_CHANNEL} (no-op without subscribers). */
export function publishDeath(socket: Socket, error: DeathMessage['error']): void {
  if (deathChannel.hasSubscribers) deathChannel.publish({ socket, error } satisfies DeathMessage);
}
