/**
 * Type test (compiled by `npm run typecheck`, never run): the event maps of
 * watch() and watchServer() and the tcp-vitals:* events on net.Socket. Each
 * `@ts-expect-error` line must fail to compile; if it ever compiles, tsc
 * reports the unused directive and typecheck fails.
 */
import { on, once } from 'node:events';
import * as net from 'node:net';
import { watch, WATCH_EVENTS } from '../../lib/policy/watch';
import { watchServer } from '../../lib/policy/server';

declare const socket: net.Socket;
declare const server: net.Server;

export async function watcherEvents(): Promise<void> {
  const w = watch(socket, { interval: 250, signal: new AbortController().signal });
  w.on('dead', (e) => { const r: string = e.reason; void r; void e.lastPrediction; });
  w.on('retransmit', (e) => { const n: number = e.retransmits + e.rtoMs; void n; });
  w.once('recovered', (e) => { void e.durationMs; void e.maxRetransmits; });
  w.off('sample', () => {});
  // @ts-expect-error misspelt event name
  w.on('daed', () => {});
  // @ts-expect-error misspelt payload field
  w.on('dead', (e) => e.reasn);
  // @ts-expect-error a stall has no durationMs
  w.on('stall', (e) => e.durationMs);
  for await (const [dead] of on(w, 'dead')) { void dead; break; }
  await once(w, 'stall');
  w.stop();
  const active: boolean = w.active;
  void active;
}

export function socketEvents(): void {
  socket.on('tcp-vitals:dead', (e) => { const r: 'retransmit' | 'keepalive' | 'zero-window' | 'unsent' | 'kernel' = e.reason; void r; });
  socket.once(WATCH_EVENTS.stall, (e) => { void e.sinceAckMs; });
  socket.off('tcp-vitals:sample', (e) => { void e.info.rtt; });
  // @ts-expect-error misspelt payload field on the socket
  socket.on('tcp-vitals:dead', (e) => e.reasn);
  // @ts-expect-error a retransmit payload has no reason
  socket.once('tcp-vitals:retransmit', (e) => e.reason);
  // Node's own events keep their types.
  socket.on('data', (chunk: Buffer) => { void chunk; });
  socket.off('close', () => {});
}

export function serverEvents(): void {
  const w = watchServer(server, { threshold: 0.8, signal: AbortSignal.timeout(1000) });
  w.on('queue-high', (e) => { const n: number = e.pending + e.backlog + e.threshold; void n; });
  w.on('overflow', (e) => { void e.listenDrops; void e.queue?.pending; });
  // @ts-expect-error misspelt event name
  w.on('queue-hihg', () => {});
  // @ts-expect-error misspelt payload field
  w.on('overflow', (e) => e.listenDrop);
  w.stop();
}

export function serverSocketEvents(): void {
  server.on('tcp-vitals:queue-high', (e) => { void e.pending; });
  // @ts-expect-error misspelt payload field on the server
  server.on('tcp-vitals:overflow', (e) => e.listenDrop);
  server.off('close', () => {});
}
