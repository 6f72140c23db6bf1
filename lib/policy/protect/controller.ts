/**
 * protect(): every TCP connection of the process protected from its first
 * SYN, with no per-client code. See docs/api-protect.md.
 */
import * as net from 'node:net';
import { codedError, isPeerGoneError, PeerGoneError } from '../../common/errors';
import { applyFd, ProtectKernelOptions, watchFd } from '../../kernel/deathwatch';
import { platformSupported, warnUnsupportedPlatform } from '../../kernel/platform';
import { protectSupported, warnUnsupportedRuntime } from '../../kernel/runtime-support';
import { addConnection, connectionMeta, ConnectionMeta, deleteConnection, publishDeath } from '../../runtime/connections';
import {
  addHookListener, claimHandle, HookListener, isClaimed, ownerOf, removeHookListener, tcpHandleOf, TcpHandle,
} from '../../runtime/process-hooks';
import { kernelOptionsFor, pollIntervalFor, ProtectConfig, ProtectOptions, resolveOptions } from './config';
import { addDetectorOwner, ArmedPoller, augmentKernelError, ownErrors, removeDetectorOwner } from './detector';
import { askMatch, DEFAULT, SKIP } from './match';
import { ConnectionInfo } from './rules';
import { scope, scopeTimeout } from './scope';
import { ProtectStats, StatsCounter } from './stats';
import { INBOUND, Table } from './table';

/** Returned by protect(). */
export interface ProtectHandle {
  /** The default timeout, ms. */
  readonly timeout: number;
  /** Stops protecting new connections and watching the current ones (their kernel options stay). Idempotent. */
  stop(): void;
  /** Counters and the detection-latency summary. */
  stats(): ProtectStats;
}

const kernelOptionCache = new Map<number, ProtectKernelOptions>();
/** The kernel options of a timeout (cached per timeout). */
export function kernelOptions(timeout: number): ProtectKernelOptions {
  let o = kernelOptionCache.get(timeout);
  if (!o) { o = kernelOptionsFor(timeout); kernelOptionCache.set(timeout, o); }
  return o;
}

/** Shared, frozen registry metadata per (direction, host, port): no object per connection. */
const metaCache = new Map<string, ConnectionMeta>();
function metaFor(direction: 'outbound' | 'inbound', host: string, port: number): ConnectionMeta {
  const key = `${direction}|${host}|${port}`;
  let m = metaCache.get(key);
  if (!m) {
    if (metaCache.size >= 4096) metaCache.clear();
    m = Object.freeze({ direction, source: 'protect' as const, host, port });
    metaCache.set(key, m);
  }
  return m;
}

/**
 * The engine: one connection table, the deathwatch and the armed poller
 * (detector.ts), fed by the process hooks. protect() runs one with its
 * process-wide rules; failFast()'s guard (guard.ts) is one with none, holding
 * only the sockets registered with it.
 */
export class Protector implements HookListener {
  readonly table = new Table();
  readonly counters = new StatsCounter();
  protected readonly poller: ArmedPoller;
  protected stopped = false;

  constructor(readonly config: ProtectConfig) {
    this.poller = new ArmedPoller(this.table, pollIntervalFor);
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

  protected protect(handle: TcpHandle, socket: net.Socket | null, timeout: number, direction: 'outbound' | 'inbound',
    host: string, port: number): void {
    const fd = handle.fd;
    if (this.stopped || !claimHandle(handle)) return; // stopped: perhaps by its own match()
    if (this.table.handles[fd] !== undefined) this.release(fd); // a close we did not see: the fd was reused
    const cookie = watchFd(fd, kernelOptions(timeout));
    if (cookie < 0) { this.counters.failed++; return; }
    this.table.set(fd, handle, socket ?? undefined, cookie, timeout, direction === 'inbound' ? INBOUND : 0, performance.now());
    this.counters.protectedNow++;
    if (socket) this.register(socket, direction, host, port);
  }

  protected register(socket: net.Socket, direction: 'outbound' | 'inbound', host: string, port: number): void {
    const known = connectionMeta(socket);
    if (!known || known.source !== 'protect') {
      this.counters.protectedTotal++;
      addConnection(socket, metaFor(direction, host, port));
    }
  }

  protected release(fd: number): void {
    const socket = this.table.sockets[fd];
    this.table.clear(fd);
    this.counters.protectedNow--;
    // A happy-eyeballs attempt closing while its socket goes on to the next one keeps its registry entry.
    if (socket && (socket.destroyed || !socket.connecting)) deleteConnection(socket);
  }

  connected(handle: TcpHandle, owner: net.Socket | null, address: string, port: number, family: 4 | 6): void {
    if (this.stopped || handle.fd < 0 || isClaimed(handle)) return;
    const host = (owner as unknown as { _host?: unknown } | null)?._host;
    const name = typeof host === 'string' && host !== '' ? host : address;
    const timeout = this.decide('outbound', name, address, port, family, handle);
    if (timeout > 0) this.protect(handle, owner, timeout, 'outbound', name, port);
  }

  adopted(handle: TcpHandle, owner: net.Socket): void {
    const fd = handle.fd;
    if (!this.table.holds(fd, handle) || this.table.sockets[fd]) return;
    this.table.sockets[fd] = owner;
    const host = (owner as unknown as { _host?: unknown })._host;
    this.register(owner, 'outbound', typeof host === 'string' ? host : owner.remoteAddress ?? '', owner.remotePort ?? 0);
  }

  accepted(socket: net.Socket): void {
    if (this.stopped || !this.config.servers) return;
    const handle = tcpHandleOf(socket);
    if (!handle || handle.fd < 0 || isClaimed(handle)) return;
    const address = socket.remoteAddress ?? '';
    const port = socket.remotePort ?? 0;
    const family = socket.remoteFamily === 'IPv6' ? 6 : 4;
    const timeout = this.decide('inbound', address, address, port, family, handle);
    if (timeout > 0) this.protect(handle, socket, timeout, 'inbound', address, port);
  }

  keepAlive(handle: TcpHandle): void {
    const fd = handle.fd;
    if (this.table.holds(fd, handle)) applyFd(fd, kernelOptions(this.table.timeouts[fd]));
  }

  closing(handle: TcpHandle): void {
    const fd = handle.fd;
    if (this.table.holds(fd, handle)) this.release(fd);
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
    removeDetectorOwner(this);
    this.poller.stop();
    for (const fd of this.table.fds()) this.release(fd);
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
  addDetectorOwner(p);
  addHookListener(p);
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
