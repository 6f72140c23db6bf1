/**
 * protect(): every TCP connection of the process protected from its first
 * SYN, with no per-client code. See docs/api-protect.md.
 */
import * as net from 'node:net';
import { codedError, isPeerGoneError, PeerGoneError } from '../../common/errors';
import { applyFd, watchTagged } from '../../kernel/deathwatch';
import { platformSupported, warnUnsupportedPlatform } from '../../kernel/platform';
import { protectSupported, warnUnsupportedRuntime } from '../../kernel/runtime-support';
import {
  addConnectionSource, ConnectionMeta, ConnectionSource, deleteConnectionOf, publishDeath, removeConnectionSource,
} from '../../runtime/connections';
import {
  addHookListener, claimHandle, HookListener, isClaimed, ownerOf, removeHookListener, tcpHandleOf, TcpHandle,
} from '../../runtime/process-hooks';
import { kernelOptions, pollIntervalFor, ProtectConfig, ProtectOptions, resolveOptions } from './config';
import { INBOUND_META, outboundMeta } from './meta';
import { addDetectorOwner, ArmedPoller, augmentKernelError, ownErrors, removeDetectorOwner } from './detector';
import { askMatch, DEFAULT, SKIP } from './match';
import { ConnectionInfo } from './rules';
import { scope, scopeTimeout } from './scope';
import { ProtectStats, StatsCounter } from './stats';
import { INBOUND, PENDING, Table, WATCHED } from './table';
import { settleBeforeOptions, settleDelayFor, Settler } from './settle';
import { ListenerState, listenerOf, prepareListener, restoreListener, restoreSocket } from './listener';

/** Returned by protect(). */
export interface ProtectHandle {
  /** The default timeout, ms. */
  readonly timeout: number;
  /** Stops protecting new connections and watching the current ones (their kernel options stay). Idempotent. */
  stop(): void;
  /** Counters and the detection-latency summary. */
  stats(): ProtectStats;
}

/**
 * The engine: one connection table, the deathwatch and the armed poller
 * (detector.ts), fed by the process hooks. protect() runs one with its
 * process-wide rules; failFast()'s guard (guard.ts) is one with none, holding
 * only the sockets registered with it.
 */
export class Protector implements HookListener, ConnectionSource {
  readonly table = new Table();
  readonly counters = new StatsCounter();
  protected readonly poller: ArmedPoller;
  protected stopped = false;
  /** Listening sockets this protect() gave the options to (restored by stop()). */
  private readonly listeners = new Set<ListenerState>();
  /** The last handle setKeepAlive() was called on before it was protected. */
  private touched: TcpHandle | null = null;
  /** Sockets between two connection attempts (happy eyeballs): counted once. Rare, so a WeakSet. */
  private readonly between = new WeakSet<net.Socket>();

  /** Outbound sockets waiting for their options (settle.ts). */
  private readonly settler: Settler;

  constructor(readonly config: ProtectConfig) {
    this.poller = new ArmedPoller(this.table, pollIntervalFor);
    this.settler = new Settler(settleDelayFor(config.timeout), (fd, tag) => this.settle(fd, tag));
  }

  /** The timeout for a new connection, or 0 to leave it alone. */
  private decide(direction: 'outbound' | 'inbound', host: string, address: string, port: number, family: 4 | 6,
    handle: TcpHandle): number {
    const c = this.config;
    let timeout = c.timeout;
    if (c.include || c.exclude || c.match) {
      let localPort = 0;
      const name: Record<string, unknown> = {};
      if (handle.getsockname && handle.getsockname(name) === 0) localPort = Number(name.port) || 0;
      const conn: ConnectionInfo = { direction, host, port, address, family, localPort };
      if (c.exclude?.matches(conn)) { this.counters.skipped.exclude++; return 0; }
      if (c.include && !c.include.matches(conn)) { this.counters.skipped.include++; return 0; }
      if (c.match) {
        const t = askMatch(c.match, conn);
        if (t === SKIP) { this.counters.skipped.match++; return 0; }
        if (t !== DEFAULT) timeout = t;
      }
    }
    const scoped = scopeTimeout();
    return scoped > 0 ? scoped : timeout;
  }

  /**
   * An outbound connection: into the table now (no syscall); its options and
   * deathwatch registration come with the next settle pass (settle.ts), in
   * one native call (5 setsockopts + epoll_ctl, no SO_COOKIE), if it is
   * still open then.
   */
  private protect(handle: TcpHandle, socket: net.Socket | null, timeout: number, host: string, port: number): void {
    const fd = handle.fd;
    if (this.stopped || !claimHandle(handle)) return; // stopped: perhaps by its own match()
    const t = this.table;
    if (t.handles[fd] !== undefined) this.release(fd); // a close we did not see: the fd was reused
    const tag = t.nextTag();
    t.set(fd, handle, socket ?? undefined, tag, timeout, PENDING, performance.now());
    this.settler.add(fd, tag);
    this.counters.protectedNow++;
    if (socket) this.register(fd, socket, outboundMeta(host, port));
  }

  /** Settles `fd` now if it waits for the settle pass (its options are about to be read or set). */
  settleNow(fd: number): void {
    if (fd >= 0 && (this.table.flags[fd] & PENDING) !== 0) this.settle(fd, this.table.tags[fd]);
  }

  /** The settle pass reached `fd` (registered with `tag`): its options and deathwatch entry, if it is still that socket. */
  private settle(fd: number, tag: number): void {
    const t = this.table;
    if (t.handles[fd] === undefined || t.tags[fd] !== tag || (t.flags[fd] & PENDING) === 0) return;
    t.flags[fd] &= ~PENDING;
    const watched = (t.flags[fd] & WATCHED) !== 0; // readStopped() registered it already
    if (watchTagged(fd, watched ? -1 : tag, kernelOptions(t.timeouts[fd])) < 0) {
      this.counters.failed++;
      this.release(fd);
      return;
    }
    t.flags[fd] |= WATCHED;
  }

  /**
   * An accepted connection. Its options were inherited from the listener when
   * `inherited` (no syscall at all); otherwise they are set here. It joins
   * the deathwatch only once Node stops reading it (`readStopped`): while
   * Node reads, libuv's own epoll registration sees the kernel's abort
   * (EPOLLERR) and Node destroys the socket with the kernel's ETIMEDOUT,
   * which `destroying` turns into the PeerGoneError.
   */
  private protectInbound(handle: TcpHandle, socket: net.Socket, timeout: number, inherited: boolean): void {
    const fd = handle.fd;
    if (this.stopped || !claimHandle(handle)) return;
    const t = this.table;
    if (t.handles[fd] !== undefined) this.release(fd);
    if (!inherited && applyFd(fd, kernelOptions(timeout)) < 0) { this.counters.failed++; return; }
    t.set(fd, handle, socket, t.nextTag(), timeout, INBOUND, performance.now());
    this.counters.protectedNow++;
    if (handle.reading !== true) this.watchLate(fd); // pauseOnConnect: Node never read it
    this.register(fd, socket, INBOUND_META);
  }

  /** Registers an inbound socket with the deathwatch (once). */
  private watchLate(fd: number): void {
    const t = this.table;
    if ((t.flags[fd] & WATCHED) !== 0) return;
    if (watchTagged(fd, t.tags[fd], null) < 0) return; // closing already: nothing left to watch
    t.flags[fd] |= WATCHED;
  }

  /** Into the registry: the table's slot is the entry (no Map, no object per connection). */
  protected register(fd: number, socket: net.Socket, meta: ConnectionMeta): void {
    this.table.sockets[fd] = socket;
    this.table.metas[fd] = meta;
    if (!this.between.delete(socket)) this.counters.protectedTotal++;
  }

  protected release(fd: number): void {
    const socket = this.table.sockets[fd];
    this.poller.disarm(fd);
    this.table.clear(fd);
    this.counters.protectedNow--;
    if (!socket) return;
    // A happy-eyeballs attempt closing while its socket goes on to the next one: counted once.
    if (!socket.destroyed && socket.connecting) this.between.add(socket);
    else deleteConnectionOf(socket, 'protect'); // track() added labels to it
  }

  connectionEntries(): IterableIterator<[net.Socket, ConnectionMeta]> {
    return this.table.entries();
  }

  connectionMetaOf(socket: net.Socket): ConnectionMeta | undefined {
    const h = tcpHandleOf(socket);
    if (!h) return undefined;
    const fd = h.fd;
    return this.table.holds(fd, h) && this.table.sockets[fd] === socket ? this.table.metas[fd] : undefined;
  }

  connected(handle: TcpHandle, owner: net.Socket | null, address: string, port: number, family: 4 | 6): void {
    if (this.stopped || handle.fd < 0 || isClaimed(handle)) return;
    const host = (owner as unknown as { _host?: unknown } | null)?._host;
    const name = typeof host === 'string' && host !== '' ? host : address;
    const timeout = this.decide('outbound', name, address, port, family, handle);
    if (timeout > 0) this.protect(handle, owner, timeout, name, port);
  }

  adopted(handle: TcpHandle, owner: net.Socket): void {
    const fd = handle.fd;
    if (!this.table.holds(fd, handle) || this.table.sockets[fd]) return;
    const host = (owner as unknown as { _host?: unknown })._host;
    this.register(fd, owner, outboundMeta(typeof host === 'string' ? host : owner.remoteAddress ?? '', owner.remotePort ?? 0));
  }

  /** A TCP server listens: its socket gets the options once, and the sockets it accepts inherit them. */
  listening(server: net.Server, handle: TcpHandle): void {
    if (this.stopped || !this.config.servers) return;
    const state = prepareListener(this, server, handle, this.config.timeout, kernelOptions(this.config.timeout));
    if (state) this.listeners.add(state);
  }

  accepted(socket: net.Socket): void {
    if (this.stopped || !this.config.servers) return;
    const handle = tcpHandleOf(socket);
    if (!handle || handle.fd < 0 || isClaimed(handle)) return;
    const c = this.config;
    let timeout: number;
    if (c.include || c.exclude || c.match) {
      // The peer address (getpeername) is read only when a rule needs it.
      const address = socket.remoteAddress ?? '';
      timeout = this.decide('inbound', address, address, socket.remotePort ?? 0, socket.remoteFamily === 'IPv6' ? 6 : 4, handle);
    } else {
      const scoped = scopeTimeout();
      timeout = scoped > 0 ? scoped : c.timeout;
    }
    const l = listenerOf(socket, this);
    // setKeepAlive() in a 'connection' listener (or the server's keepAlive option) overwrote what was inherited.
    const touched = this.touched === handle;
    this.touched = null;
    if (timeout <= 0) { if (l) restoreSocket(handle.fd, l); return; }
    this.protectInbound(handle, socket, timeout, l !== null && l.timeout === timeout && !touched);
  }

  keepAlive(handle: TcpHandle): void {
    const fd = handle.fd;
    if (!this.table.holds(fd, handle)) {
      if (this.config.servers) this.touched = handle;
      return;
    }
    // Not yet settled: the settle pass sets the options after this call anyway.
    if ((this.table.flags[fd] & PENDING) === 0) applyFd(fd, kernelOptions(this.table.timeouts[fd]));
  }

  readStopped(handle: TcpHandle): void {
    const fd = handle.fd;
    if (this.table.holds(fd, handle)) this.watchLate(fd);
  }

  closing(handle: TcpHandle): void {
    const fd = handle.fd;
    if (this.table.holds(fd, handle)) this.release(fd);
    else if (this.listeners.size > 0) {
      for (const l of this.listeners) if (l.handle === handle) { this.listeners.delete(l); break; }
    }
    if (this.touched === handle) this.touched = null;
  }

  writing(socket: net.Socket): void {
    const handle = tcpHandleOf(socket);
    if (handle && this.table.holds(handle.fd, handle)) this.poller.arm(handle.fd);
  }

  handedOver(handle: TcpHandle): void {
    const fd = handle.fd;
    if (!this.table.holds(fd, handle)) return;
    this.counters.handedOver++;
    this.release(fd);
  }

  destroying(socket: net.Socket, error: Error): void {
    const handle = tcpHandleOf(socket);
    if (!handle) return;
    const fd = handle.fd;
    if (!this.table.holds(fd, handle)) return;
    const e = error as PeerGoneError & { code?: unknown; syscall?: string };
    if (ownErrors.has(error)) {
      if (e.code !== 'ETIMEDOUT') { this.counters.death('reset', undefined); return; }
    } else {
      if (e.code !== 'ETIMEDOUT' || isPeerGoneError(e)) return;
      augmentKernelError(e, socket, this.table, fd);
      ownErrors.add(error);
    }
    this.counters.death(e.reason, e.silentMs);
    publishDeath(ownerOf(handle as object) ?? socket, e);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    removeHookListener(this);
    settleBeforeOptions(this, false);
    removeDetectorOwner(this);
    removeConnectionSource(this);
    this.poller.stop();
    this.settler.stop();
    for (const fd of this.table.fds()) this.release(fd);
    for (const l of this.listeners) restoreListener(l);
    this.listeners.clear();
  }
}

/**
 * Protects every TCP connection the process opens from now on (and, with
 * `servers`, every one it accepts): a peer that vanishes is reported within
 * `timeout` of the last moment it was heard from, as a PeerGoneError
 * (code 'ETIMEDOUT', `reason`, `silentMs`, `unacknowledgedBytes`) on the
 * socket, and on the `tcp-vitals:death` diagnostics channel.
 *
 * Off Linux it does nothing: one TCP_VITALS_UNSUPPORTED_PLATFORM warning per
 * process, and a handle whose stats stay zero.
 * Outside Node.js (Bun, Deno) it does nothing too: one TCP_VITALS_UNSUPPORTED_RUNTIME
 * warning, and a handle whose stats stay zero.
 *
 * @throws ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE / ERR_INVALID_ARG_VALUE for bad options;
 *   ERR_INVALID_STATE when `signal` is already aborted.
 */
export function protect(options: ProtectOptions = {}): ProtectHandle {
  const config = resolveOptions(options);
  if (config.signal?.aborted) throw codedError('ERR_INVALID_STATE', 'protect(): the signal is already aborted');
  if (!platformSupported() || !protectSupported()) {
    // Off Linux, or outside Node.js (no libuv to poll with): one warning per process, a handle that does nothing.
    if (!platformSupported()) warnUnsupportedPlatform('protect() / tcp-vitals/register');
    else warnUnsupportedRuntime('protect() / tcp-vitals/register');
    const idle = new StatsCounter();
    return { timeout: config.timeout, stop: () => {}, stats: () => idle.snapshot() };
  }
  const p = new Protector(config);
  settleBeforeOptions(p, true);
  addDetectorOwner(p);
  addHookListener(p);
  addConnectionSource(p);
  const handle: ProtectHandle = {
    timeout: config.timeout,
    stop: () => p.stop(),
    stats: () => p.counters.snapshot(),
  };
  config.signal?.addEventListener('abort', () => p.stop(), { once: true });
  return handle;
}

/** protect.scope({ timeout }, fn): connections opened inside fn's async context get that timeout. */
protect.scope = scope;
