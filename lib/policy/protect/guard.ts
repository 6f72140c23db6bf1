/**
 * failFast()'s side of the engine: a {@link Protector} with no process-wide
 * rules, holding only the sockets registered with it, each with its own
 * settings that override protect()'s. As the first hook listener it claims a
 * socket's attempts at their connect; a socket that has its fd already
 * (connected before any hook was installed, or protect()ed) is adopted by
 * {@link Guard.take}.
 */
import type * as net from 'node:net';
import { systemError } from '../../common/errors';
import { applyFd, ProtectKernelOptions, watchTagged } from '../../kernel/deathwatch';
import { checkedCookie } from '../../kernel/identity';
import { addHookListener, claimHandle, handOver, installHooks, tcpHandleOf, TcpHandle } from '../../runtime/process-hooks';
import { Protector } from './controller';
import { addDetectorOwner } from './detector';
import { DEFAULT_PROTECT_TIMEOUT_MS, kernelOptionsFor } from './config';
import { OWN, WATCHED } from './table';

/** One socket's own settings. */
export interface GuardSettings {
  readonly timeout: number;
  readonly pollInterval: number;
}

const settings = new WeakMap<net.Socket, GuardSettings>();

const optionCache = new Map<number, ProtectKernelOptions>();
/** failFast's kernel options for a timeout (all of them, TCP_KEEPCNT included; cached per timeout). */
function guardOptions(timeout: number): ProtectKernelOptions {
  let o = optionCache.get(timeout);
  if (!o) { o = kernelOptionsFor(timeout); optionCache.set(timeout, o); }
  return o;
}

const NO_RULES = Object.freeze({
  timeout: DEFAULT_PROTECT_TIMEOUT_MS, servers: false, include: null, exclude: null, match: null, signal: null,
});

export class Guard extends Protector {
  constructor() {
    super(NO_RULES);
  }

  /**
   * Guards `handle` of `socket` with `own`: 0, or -errno. Registered like
   * protect()'s outbound sockets (options and a tagged deathwatch entry in one
   * call); its SO_COOKIE is read when a batch read first needs it.
   */
  private guard(handle: TcpHandle, socket: net.Socket, own: GuardSettings): number {
    const fd = handle.fd;
    claimHandle(handle);
    const t = this.table;
    if (t.handles[fd] !== undefined) this.release(fd);
    const tag = t.nextTag();
    const r = watchTagged(fd, tag, guardOptions(own.timeout));
    if (r < 0) return r;
    t.set(fd, handle, socket, tag, own.timeout, OWN | WATCHED, performance.now());
    t.polls[fd] = own.pollInterval;
    this.counters.protectedNow++;
    return 0;
  }

  /**
   * Registers `socket` with `own` settings (replacing earlier ones), now if it has an fd, else at its
   * connect. Throws ESTALE (fd reused) or the kernel's refusal of the options, registering nothing.
   */
  take(socket: net.Socket, own: GuardSettings): void {
    const handle = tcpHandleOf(socket);
    const fd = handle ? handle.fd : -1;
    if (handle && fd >= 0) checkedCookie(socket, fd);
    settings.set(socket, own);
    if (!handle) return;
    if (socket.connecting) {
      // Later attempts (happy eyeballs: a new handle each) are guarded at their connect (the TCP
      // wraps), and the options set again on 'connect', after net.connect's own setKeepAlive.
      installHooks(handle);
      socket.once('connect', () => this.reapply(socket));
    }
    if (fd < 0) return;
    handOver(socket);
    const r = this.guard(handle, socket, own);
    if (r < 0) {
      settings.delete(socket);
      throw systemError(r, 'setsockopt');
    }
  }

  /** Forgets `socket` if `own` are still its settings (its kernel options stay). */
  drop(socket: net.Socket, own: GuardSettings): void {
    if (settings.get(socket) !== own) return;
    settings.delete(socket);
    const handle = tcpHandleOf(socket);
    if (handle && this.table.holds(handle.fd, handle)) this.release(handle.fd);
  }

  override connected(handle: TcpHandle, owner: net.Socket | null): void {
    const own = owner && handle.fd >= 0 ? settings.get(owner) : undefined;
    if (own) this.guard(handle, owner!, own);
  }

  override adopted(handle: TcpHandle, owner: net.Socket): void {
    const own = settings.get(owner);
    if (!own || this.table.holds(handle.fd, handle)) return;
    handOver(owner);
    this.guard(handle, owner, own);
  }

  /** Sets the options of `socket`'s slot again (0 or -errno; -1 when not guarded). */
  private reapply(socket: net.Socket): number {
    const h = tcpHandleOf(socket);
    return h && this.table.holds(h.fd, h) ? applyFd(h.fd, guardOptions(this.table.timeouts[h.fd])) : -1;
  }

  /** The application's own setKeepAlive() after failFast wins (as documented); see take() for net.connect's. */
  override keepAlive(): void {}

  /** No process-wide rules: an accepted socket is guarded by take() only. */
  override accepted(): void {}

  protected override release(fd: number): void {
    this.poller.disarm(fd);
    this.table.clear(fd);
    this.counters.protectedNow--;
  }

  /** failFast sockets are not entered in the connection registry (track() does that). */
  protected override register(): void {}
}

let instance: Guard | null = null;

/** The process's guard, started on first use (never stopped: it holds only what failFast registered). */
export function guard(): Guard {
  if (!instance) {
    instance = new Guard();
    addDetectorOwner(instance);
    addHookListener(instance, true);
  }
  return instance;
}
