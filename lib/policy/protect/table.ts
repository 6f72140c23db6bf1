/**
 * The sockets one protect() looks after, in arrays indexed by fd (an fd
 * belongs to one open socket at a time). Beside each, a tag: a generation
 * number given at registration, which is what the deathwatch reports and what
 * the armed poller's entries carry, so a verdict or an entry left by an
 * earlier socket on the same fd number is told apart without reading
 * SO_COOKIE (the TCP close hook clears the slot before the number can be
 * reused). SO_COOKIE itself is read only when the engine first needs a batch
 * read of the fd (the armed poller arming it, a death or augmentation
 * reading: kernel/batch reads nothing without it), then kept in `cookies`
 * until the slot is cleared. No per-socket objects or closures: a protected
 * connection costs a few array slots.
 */
import type * as net from 'node:net';
import type { ConnectionMeta } from '../../runtime/connections';
import { cookieOrZero } from '../../kernel/deathwatch';
import { rememberedHandleCookie } from '../../kernel/identity';
import type { TcpHandle } from '../../runtime/process-hooks';

/** Flag bits per slot. */
export const ARMED = 1;
export const INBOUND = 2;
/** Guarded with per-socket settings (failFast): `polls` holds its poll interval. */
export const OWN = 4;
/** Registered with the deathwatch (inbound sockets are registered only once Node stops reading them). */
export const WATCHED = 8;
/** Outbound, its kernel options not set yet (protect/settle.ts: set at the next settle pass). */
export const PENDING = 16;

const INITIAL = 256;
/** The last tag given (the deathwatch's verdicts carry it). */
let generation = 0;

function grown<T extends Float64Array | Int32Array | Uint32Array | Uint8Array | BigUint64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  (b as { set(a: ArrayLike<unknown>): void }).set(a);
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
  /** SO_COOKIE, read at the first batch read ({@link cookieOf}); 0n until then and when free. */
  cookies = new BigUint64Array(INITIAL);
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

  /** A new tag (never 0; one sequence for every table, so protect()'s and failFast()'s never coincide). */
  nextTag(): number {
    generation = generation >= 0x7fffffff ? 1 : generation + 1;
    return generation;
  }

  private ensure(fd: number): void {
    if (fd < this.tags.length) return;
    let size = this.tags.length;
    while (size <= fd) size *= 2;
    this.tags = grown(this.tags, size);
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

  set(fd: number, handle: TcpHandle, socket: net.Socket | undefined, tag: number, timeout: number, flags: number, since: number): void {
    this.ensure(fd);
    if (this.handles[fd] === undefined) this.count++;
    this.handles[fd] = handle;
    this.sockets[fd] = socket;
    this.tags[fd] = tag;
    this.cookies[fd] = 0n;
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
    this.cookies[fd] = 0n;
    this.flags[fd] = 0;
    this.hints[fd] = 0;
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

  /**
   * SO_COOKIE of the socket in slot `fd`, read once (the first time a batch
   * read of it is needed) and kept until the slot is cleared; 0n for a free
   * slot or an fd whose cookie cannot be read (a batch read of 0n reads nothing).
   * The close hook clears the slot before Node's fd number can be reused; an fd
   * closed behind Node's back is caught only if the package saw the handle's
   * cookie before (kernel/identity), since nothing was read at registration.
   */
  cookieOf(fd: number): bigint {
    if (this.handles[fd] === undefined) return 0n;
    let c = this.cookies[fd];
    if (c === 0n) {
      // The cookie remembered at the package's first sight of this handle (tcpInfo(), watch()...) if any:
      // an fd closed behind Node's back and reused since is then refused (ESTALE), not read as this socket.
      c = rememberedHandleCookie(this.handles[fd] as object) ?? cookieOrZero(fd);
      this.cookies[fd] = c;
    }
    return c;
  }

  /** Every occupied fd (for stop()). */
  fds(): number[] {
    const out: number[] = [];
    for (let fd = 0; fd < this.handles.length; fd++) if (this.handles[fd] !== undefined) out.push(fd);
    return out;
  }
}
