/**
 * The sockets one protect() looks after, in arrays indexed by fd (an fd
 * belongs to one open socket at a time; the SO_COOKIE beside it tells a
 * reused number from the socket that was registered). No per-socket objects
 * or closures: a protected connection costs a few array slots.
 */
import type * as net from 'node:net';
import type { TcpHandle } from '../../runtime/process-hooks';

/** Flag bits per slot. */
export const ARMED = 1;
export const INBOUND = 2;
/** Guarded with per-socket settings (failFast): `polls` holds its poll interval. */
export const OWN = 4;

const INITIAL = 256;

function grown<T extends Float64Array | Uint32Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/** Slots of protected sockets, indexed by fd. */
export class Table {
  handles: Array<TcpHandle | undefined> = [];
  sockets: Array<net.Socket | undefined> = [];
  /** SO_COOKIE as a number (exact below 2^53). */
  cookies = new Float64Array(INITIAL);
  /** Timeout in force, ms. */
  timeouts = new Uint32Array(INITIAL);
  /** performance.now() when protection started (the SYN for outbound). */
  since = new Float64Array(INITIAL);
  flags = new Uint8Array(INITIAL);
  /** Poll interval of an OWN slot, ms; then the death step's state (reset when armed), its hint a REASON_CODES index. */
  polls = new Uint32Array(INITIAL);
  unsentSince = new Float64Array(INITIAL);
  acked = new Float64Array(INITIAL);
  hints = new Uint8Array(INITIAL);
  /** Occupied slots. */
  count = 0;

  private ensure(fd: number): void {
    if (fd < this.cookies.length) return;
    let size = this.cookies.length;
    while (size <= fd) size *= 2;
    this.cookies = grown(this.cookies, size);
    this.timeouts = grown(this.timeouts, size);
    this.since = grown(this.since, size);
    this.flags = grown(this.flags, size);
    this.polls = grown(this.polls, size);
    this.unsentSince = grown(this.unsentSince, size);
    this.acked = grown(this.acked, size);
    this.hints = grown(this.hints, size);
  }

  /** Whether `fd` holds `handle`. */
  holds(fd: number, handle: TcpHandle | null): boolean {
    return fd >= 0 && handle !== null && this.handles[fd] === handle;
  }

  set(fd: number, handle: TcpHandle, socket: net.Socket | undefined, cookie: number, timeout: number, flags: number, since: number): void {
    this.ensure(fd);
    if (this.handles[fd] === undefined) this.count++;
    this.handles[fd] = handle;
    this.sockets[fd] = socket;
    this.cookies[fd] = cookie;
    this.timeouts[fd] = timeout;
    this.since[fd] = since;
    this.flags[fd] = flags;
  }

  clear(fd: number): void {
    if (this.handles[fd] === undefined) return;
    this.handles[fd] = undefined;
    this.sockets[fd] = undefined;
    this.cookies[fd] = 0;
    this.flags[fd] = 0;
    this.hints[fd] = 0;
    this.count--;
  }

  /** Every occupied fd (for stop()). */
  fds(): number[] {
    const out: number[] = [];
    for (let fd = 0; fd < this.handles.length; fd++) if (this.handles[fd] !== undefined) out.push(fd);
    return out;
  }
}
