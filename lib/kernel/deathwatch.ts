/**
 * The deathwatch: the kernel's verdict on protected sockets (an abort by
 * TCP_USER_TIMEOUT or keepalive, or a reset), delivered even while Node is
 * not reading them. One epoll set per process (per worker), registered for
 * EPOLLERR|EPOLLHUP only and watched by one unref'd uv_poll in the addon, so
 * idle sockets cost nothing and the deathwatch never keeps the process alive.
 *
 * The options protect() relies on are set in the same native call that reads
 * SO_COOKIE and registers the fd.
 */
import { native } from './binding';
import { check } from '../common/errors';

/** Kernel options for one protected socket. */
export interface ProtectKernelOptions {
  /** TCP_USER_TIMEOUT, ms. */
  readonly userTimeout: number;
  /** TCP_KEEPIDLE, whole seconds. */
  readonly keepIdleS: number;
  /** TCP_KEEPINTVL, whole seconds. */
  readonly keepIntervalS: number;
  /** TCP_KEEPCNT. */
  readonly keepCount: number;
  /** TCP_RTO_MAX_MS (ignored by kernels before 6.15); 0 = leave alone. */
  readonly rtoMax: number;
}

/** Called once per event: the fd, the low 32 bits of the cookie it was registered with, epoll revents. */
export type VerdictHandler = (fd: number, cookieLow: number, revents: number) => void;

const EVENTS_PER_CALL = 256;
const out = new Float64Array(3 * EVENTS_PER_CALL);
let handler: VerdictHandler | null = null;
let opened = false;

function onEvents(count: number): void {
  for (let i = 0; i < count; i++) {
    try {
      handler?.(out[3 * i], out[3 * i + 1], out[3 * i + 2]);
    } catch (err) {
      // A failing handler must not lose the other events of the batch.
      process.nextTick(() => { throw err; });
    }
  }
}

/** Opens the deathwatch (idempotent) and routes its events to `onVerdict`. */
export function openDeathwatch(onVerdict: VerdictHandler): void {
  handler = onVerdict;
  if (opened) return;
  check(native.deathwatchOpen(onEvents, out), 'epoll_create1');
  opened = true;
}

/** Sets the options, reads SO_COOKIE and watches `fd`: the cookie (> 0), or -errno. */
export function watchFd(fd: number, o: ProtectKernelOptions): number {
  return native.deathwatchAdd(fd, o.userTimeout, o.keepIdleS, o.keepIntervalS, o.keepCount, o.rtoMax);
}

/**
 * protect()'s per-connection call: sets the options `o` (none when null;
 * TCP_KEEPCNT only when `o.keepCount` > 0), then watches `fd` tagged `tag`
 * (0..2^31-1, what the verdict reports in place of the cookie's low bits)
 * when `tag` >= 0. No SO_COOKIE read. 0 or -errno.
 */
export function watchTagged(fd: number, tag: number, o: ProtectKernelOptions | null): number {
  if (o === null) return native.deathwatchWatch(fd, tag, 0, 0, 0, 0, 0);
  return native.deathwatchWatch(fd, tag, o.userTimeout, o.keepIdleS, o.keepIntervalS, o.keepCount, o.rtoMax);
}

/** Sets the options again (after a client's setKeepAlive overwrote them): 0 or -errno. */
export function applyFd(fd: number, o: ProtectKernelOptions): number {
  return native.deathwatchApply(fd, o.userTimeout, o.keepIdleS, o.keepIntervalS, o.keepCount, o.rtoMax);
}

/** Low 32 bits of a cookie, as the deathwatch reports it. */
export function cookieLow(cookie: number): number {
  return cookie % 0x1_0000_0000;
}
