/**
 * Connection lifecycle events for the metric collectors: handshake duration
 * (connect() to established, outbound), connection duration (established or
 * accepted to close) and connection failures by reason. Seen through the
 * process hooks (runtime/process-hooks), for every TCP connection of the
 * process, not only the registered ones: a failed connect never reaches the
 * registry. One hook listener while at least one collector listens; none
 * otherwise (then a connect takes no timestamp).
 *
 * What the hooks cannot see, said once here: the handshake of an accepted
 * connection happens in the kernel before accept() (no server-side handshake
 * duration), and a SYN the kernel dropped or answered before accept() is no
 * failure the process can count.
 */
import type { Socket } from 'node:net';
import { constants as os } from 'node:os';
import { isPeerGoneError } from '../common/errors';
import { addHookListener, removeHookListener, tcpHandleOf } from '../runtime/process-hooks';
import type { HookListener, TcpHandle } from '../runtime/process-hooks';
import type { FailureReason } from './metric-names';

/** Which side opened the connection (OTel `network.tcp.handshake.role`). */
export type Role = 'client' | 'server';

/** A lifecycle event's peer: address and (outbound) port. */
export interface LifecyclePeer {
  readonly role: Role;
  readonly address: string | undefined;
  readonly port: number | undefined;
}

/** What a collector receives. */
export interface LifecycleSink {
  handshake(seconds: number, peer: LifecyclePeer): void;
  closed(seconds: number, peer: LifecyclePeer): void;
  failure(reason: FailureReason, peer: LifecyclePeer): void;
  /** An established connection ended with a reset from the peer (ECONNRESET, or EPIPE on a write after it). */
  reset(peer: LifecyclePeer): void;
}

interface Open extends LifecyclePeer { readonly since: number }

const E = os.errno;

/** The failure reason of a connect errno (negative as libuv gives it, or positive). */
export function failureReason(errno: number): FailureReason {
  switch (Math.abs(errno)) {
    case E.ECONNREFUSED: return 'refused';
    case E.ECONNRESET: return 'reset';
    case E.ETIMEDOUT: return 'timed_out';
    case E.EHOSTUNREACH: return 'host_unreachable';
    case E.ENETUNREACH: return 'net_unreachable';
    default: return 'other';
  }
}

const sinks: LifecycleSink[] = [];
const open = new WeakMap<object, Open>();
/** Connects in flight: their peer, for a connect given up before completion. */
const pending = new WeakMap<object, LifecyclePeer>();

function each(fn: (s: LifecycleSink) => void): void {
  for (const s of sinks.slice()) {
    try { fn(s); } catch (e) { process.nextTick(() => { throw e; }); }
  }
}

const listener: HookListener = {
  connected(handle: TcpHandle, _owner: Socket | null, address: string, port: number): void {
    pending.set(handle, { role: 'client', address: address || undefined, port: port > 0 ? port : undefined });
  },
  connectDone(handle: TcpHandle, _owner: Socket | null, status: number, seconds: number, address: string, port: number): void {
    pending.delete(handle);
    const peer: LifecyclePeer = { role: 'client', address: address || undefined, port: port > 0 ? port : undefined };
    if (status === 0) {
      open.set(handle, { ...peer, since: performance.now() });
      each((s) => s.handshake(seconds, peer));
    } else {
      each((s) => s.failure(failureReason(status), peer));
    }
  },
  accepted(socket: Socket): void {
    const h = tcpHandleOf(socket);
    if (!h || (h as object).constructor?.name !== 'TCP') return;
    open.set(h, { role: 'server', address: socket.remoteAddress, port: undefined, since: performance.now() });
  },
  closing(handle: TcpHandle): void {
    const o = open.get(handle);
    if (!o) return;
    open.delete(handle);
    const seconds = (performance.now() - o.since) / 1000;
    each((s) => s.closed(seconds, o));
  },
  destroying(socket: Socket, error: Error): void {
    const code = (error as { code?: unknown }).code;
    if (!socket.connecting) {
      if (code !== 'ECONNRESET' && code !== 'EPIPE') return;
      const h = tcpHandleOf(socket);
      const o = h ? open.get(h) : undefined; // a connection the lifecycle saw open (TCP, established or accepted)
      if (o) each((s) => s.reset(o));
      return;
    }
    // A connect given up before libuv completed it (our own connect timeout,
    // failFast, or a client's ETIMEDOUT): libuv never calls back for it.
    if (Array.isArray((error as { errors?: unknown }).errors)) return;
    if (!isPeerGoneError(error) && code !== 'ETIMEDOUT') return;
    const h = tcpHandleOf(socket);
    const peer = h ? pending.get(h) : undefined;
    if (h) pending.delete(h);
    each((s) => s.failure('timed_out', peer ?? { role: 'client', address: undefined, port: undefined }));
  },
};

/** Starts sending lifecycle events to `sink`; returns the function that stops it. */
export function onLifecycle(sink: LifecycleSink): () => void {
  sinks.push(sink);
  if (sinks.length === 1) addHookListener(listener);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const i = sinks.indexOf(sink);
    if (i >= 0) sinks.splice(i, 1);
    if (sinks.length === 0) removeHookListener(listener);
  };
}
