/**
 * The sockets one protect() looks after, in arrays indexed by fd (an fd
 * belongs to one open socket at a time). Beside each, a tag: a generation
 * number given at registration, which is what the deathwatch reports and what
 * the armed poller's entries carry, so a verdict or an entry left by an
 * earlier socket on the same fd number is told apart without reading
 * SO_COOKIE (the TCP close hook clears the slot before the number can be
 * reused). No per-socket objects or closures: a protected connection costs a
 * few array slots.
 */
import type * as net from 'node:net';
import type { ConnectionMeta } from '../../runtime/connections';
import type { TcpHandle } from '../../runtime/process-hooks';

/** Flag bits per slot. */
export const ARMED = 1;
export const INBOUND = 2;
/** Registered with the deathwatch (inbound sockets are registered only once Node stops reading them). */
export const WATCHED = 4;

const INITIAL = 256;

function grown<T extends Float64Array | Int32Array | Uint32Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/** Slots of protected sockets, indexed by fd. */
export class Table {
  handles: Array<TcpHandle | undefined> = [];
  sockets: Array<net.Socket | undefined> = [];
  /** Registry metadata of each socket (shared frozen objects). */
  metas: Array<ConnectionMeta | undefined> = [];
  /** The registration's tag (1..2^31-1), 0 when free. */
  tags = new Int32Array(INITIAL);
  /** Timeout in force, ms. */
  timeouts = new Uint32Array(INITIAL);
  /** performance.now() when protection started (the SYN for outbound). */
  since = new Float64Array(INITIAL);
  flags = new Uint8Array(INITIAL);
  /** Occupied slots. */
  count = 0;
  private generation = 0;

  /** A new tag (never 0). */
  nextTag(): number {
    this.generation = this.generation >= 0x7fffffff ? 1 : this.generation + 1;
    return this.generation;
  }

  private ensure(fd: number): void {
    if (fd < this.tags.length) return;
    let size = this.tags.length;
    while (size <= fd) size *= 2;
    this.tags = grown(this.tags, size);
    this.timeouts = grown(this.timeouts, size);
    this.since = grown(this.since, size);
    this.flags = grown(this.flags, size);
  }

  /** Whether `fd` holds `handle`. */
  holds(fd: number, handle: TcpHandle | null): boolean {
    return fd >= 0 && handle !== null && this.handles[fd] === handle;
  }

  set(fd: number, handle: TcpHandle, socket: net.Socket | undefined, tag: number, timeout: number, flags: number, since: number): void {
    this.ensure(fd);
    if (this.handles[fd] === undefined) this.count++;
    this.handles[fd] = handle;
    this.sockets[fd] = socket;
    this.tags[fd] = tag;
    this.timeouts[fd] = timeout;
    this.since[fd] = since;
    this.flags[fd] = flags;
  }

  clear(fd: number): void {
    if (this.handles[fd] === undefined) return;
    this.handles[fd] = undefined;
    this.sockets[fd] = undefined;
    this.metas[fd] = undefined;
    this.tags[fd] = 0;
    this.flags[fd] = 0;
    this.count--;
  }

  /** Each slot's socket and metadata (the registry iterates this). */
  *entries(): IterableIterator<[net.Socket, ConnectionMeta]> {
    for (let fd = 0; fd < this.sockets.length; fd++) {
      const s = this.sockets[fd];
      const m = this.metas[fd];
      if (s !== undefined && m !== undefined && this.handles[fd] !== undefined) yield [s, m];
    }
  }

  /** Every occupied fd (for stop()). */
  fds(): number[] {
    const out: number[] = [];
    for (let fd = 0; fd < this.handles.length; fd++) if (this.handles[fd] !== undefined) out.push(fd);
    return out;
  }
}
