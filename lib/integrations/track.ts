/**
 * track(socket, labels): adds a socket to the process-wide connection
 * registry (source 'track') so the metric collectors (tcp-vitals/prometheus,
 * tcp-vitals/otel) cover it, for sockets protect() does not already cover.
 * The socket leaves the registry on 'close'.
 */
import * as net from 'node:net';
import { invalidArgType } from '../common/errors';
import { addConnection, connectionMeta, deleteConnection } from '../runtime/connections';

/** Extra label values for the collectors' `labelNames` option. */
export type TrackLabels = Readonly<Record<string, string>>;

function validateLabels(labels: unknown): TrackLabels | undefined {
  if (labels === undefined) return undefined;
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) throw invalidArgType('labels', 'an object of strings', labels);
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') throw invalidArgType(`labels.${k}`, 'a string', v);
  }
  return Object.freeze({ ...(labels as Record<string, string>) });
}

/**
 * Registers `socket` with the collectors, labelled with `labels` (values for
 * the collectors' `labelNames`). Returns a function that stops tracking it.
 * A socket protect() already registered keeps that registration; only its
 * labels are added. Tracking a destroyed socket is a no-op.
 */
export function track(socket: net.Socket, labels?: TrackLabels): () => void {
  if (!(socket instanceof net.Socket)) throw invalidArgType('socket', 'an instance of net.Socket or tls.TLSSocket', socket);
  const own = validateLabels(labels);
  if (socket.destroyed) return () => {};
  const existing = connectionMeta(socket);
  if (existing) {
    if (own) addConnection(socket, { ...existing, labels: { ...existing.labels, ...own } });
    return () => {};
  }
  const inbound = (socket as net.Socket & { server?: unknown }).server !== undefined && (socket as { server?: unknown }).server !== null;
  addConnection(socket, { direction: inbound ? 'inbound' : 'outbound', source: 'track', labels: own });
  const onClose = (): void => { untrack(); };
  function untrack(): void {
    socket.removeListener('close', onClose);
    if (connectionMeta(socket)?.source === 'track') deleteConnection(socket);
  }
  socket.once('close', onClose);
  return untrack;
}
