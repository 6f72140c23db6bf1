/**
 * The deathwatch: the kernel's verdict on protected sockets (an abort by
 * TCP_USER_TIMEOUT or keepalive, or a reset), delivered even while Node is
 * not reading them. One epoll set per thread (the main one and each worker's;
 * each thread has its own copy of this module's state), registered for
 * EPOLLERR|EPOLLHUP only and watched by one unref'd uv_poll in the addon, so
 * idle sockets cost nothing and the deathwatch never keeps the process alive.
 * The addon closes each thread's poll before that thread's env is torn down.
 *
 * The options the engine relies on are set in the same native call that
 * registers the fd, tagged with the caller's generation number
 * ({@link watchTagged}: no SO_COOKIE read; the engine reads the cookie only
 * when it first needs a batch read, {@link cookieOrZero}).
 */
import { native } from './binding';
import { check } from '../common/errors';
import { protectSupported } from './runtime-support';

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

/** Called once per event: the fd, the tag it was registered with (watchTagged), epoll revents. */
export type VerdictHandler = (fd: number, tag: number, revents: number) => void;

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

/**
 * Opens the deathwatch (idempotent) and routes its events to `onVerdict`.
 * Outside Node it opens nothing (see below).
 */
export function openDeathwatch(onVerdict: VerdictHandler): void {
  handler = onVerdict;
  // Outside Node (Bun aborts the whole process on the addon's first uv_poll
  // call) there is no epoll set: watchTagged() only sets the options, and deaths
  // come from the runtime's own reads and the armed poller.
  if (!protectSupported()) return;
  if (opened) return;
  check(native.deathwatchOpen(onEvents, out), 'epoll_create1');
  opened = true;
}

/**
 * protect()'s per-connection call: sets the options `o` (none when null;
 * TCP_KEEPCNT only when `o.keepCount` > 0), then watches `fd` tagged `tag`
 * (0..2^31-1, what the verdict reports in place of the cookie's low bits)
 * when `tag` >= 0. No SO_COOKIE read. 0 or -errno.
 */
export function watchTagged(fd: number, tag: number, o: ProtectKernelOptions | null): number {
  // No epoll set (outside Node): the options only (deathwatchWatch needs deathwatchOpen).
  if (!opened) return o === null ? 0 : applyFd(fd, o);
  if (o === null) return native.deathwatchWatch(fd, tag, 0, 0, 0, 0, 0);
  return native.deathwatchWatch(fd, tag, o.userTimeout, o.keepIdleS, o.keepIntervalS, o.keepCount, o.rtoMax);
}

/** Sets the options again (after a client's setKeepAlive overwrote them): 0 or -errno. */
export function applyFd(fd: number, o: ProtectKernelOptions): number {
  return native.deathwatchApply(fd, o.userTimeout, o.keepIdleS, o.keepIntervalS, o.keepCount, o.rtoMax);
}

/** SO_COOKIE of `fd`, or 0n when it cannot be read (kernel/batch never reads an entry with 0n). */
export function cookieOrZero(fd: number): bigint {
  const c = native.cookie(fd);
  return typeof c === 'bigint' ? c : 0n;
}

const soErrorBuf = Buffer.alloc(4);

/** SO_ERROR of `fd` (reading it clears it: only for a socket the caller then destroys), or -1 when unreadable. */
export function soError(fd: number): number {
  const C = native.constants;
  if (native.getsockopt(fd, C.SOL_SOCKET, C.SO_ERROR, soErrorBuf) < 0) return -1;
  return soErrorBuf.readInt32LE(0);
}
