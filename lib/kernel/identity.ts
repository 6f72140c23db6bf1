/**
 * The cookie policy: which kernel socket a net.Socket is.
 *
 * SO_COOKIE is a socket's non-zero 64-bit id, unique until reboot. Each
 * libuv handle of a net.Socket is remembered with the cookie it had at first
 * sight; every later registration or one-shot read through
 * {@link checkedCookie} compares the fd's cookie with it, so an fd closed
 * behind Node's back and reused by another socket is never read or changed as
 * this one (a system error ESTALE instead). Happy eyeballs (autoSelectFamily)
 * gives each connection attempt a new handle, hence a new remembered cookie.
 *
 * A failed cookie read is an error, never 0n (0n would turn the native
 * reuse guard off).
 *
 * A kernel that cannot give a cookie at all (ENOPROTOOPT: Linux before 4.13;
 * EINVAL: emulators such as qemu-user 7.2) makes identity checks unavailable
 * for that socket: the one-shot reads and writes ({@link socketFd}) then take
 * the fd as given, as they do a bare fd number, so options are still set and
 * read. {@link socketCookie} and the long-lived users of the cookie
 * (checkedCookie: watch, failFast) still get the system error.
 */
import * as net from 'node:net';
import { native } from './binding';
import { SystemError, systemError } from '../common/errors';
import { fdOf, handleOf, Target } from './fd';
import { UNSUPPORTED_PLATFORM_CODE } from './platform';

/** ESTALE as a Node-shaped system error (libuv has no name for it, so util.getSystemErrorName() does not either). */
function staleError(detail: string): SystemError {
  const err = systemError(native.constants.ESTALE, 'getsockopt', detail);
  err.code = 'ESTALE';
  err.message = `getsockopt ESTALE (${detail})`;
  return err;
}

/** Cookie of each handle at first sight (a handle's fd never legitimately changes socket). */
const seen = new WeakMap<object, bigint>();

/** SO_COOKIE of `fd`. Throws `getsockopt <CODE>` (SO_COOKIE) on failure, never returns 0n. */
export function readCookie(fd: number): bigint {
  const r = native.cookie(fd);
  if (typeof r === 'number') throw systemError(r < 0 ? r : native.constants.ESTALE, 'getsockopt', 'SO_COOKIE');
  if (r === 0n) throw staleError('SO_COOKIE is 0');
  return r as bigint;
}

/** The remembered cookie of `socket`'s current handle, or undefined if it was never seen. */
export function rememberedCookie(socket: net.Socket): bigint | undefined {
  const h = handleOf(socket);
  return h ? seen.get(h) : undefined;
}

/** The cookie remembered for a TCP `handle` at the package's first sight of it, or undefined. */
export function rememberedHandleCookie(handle: object): bigint | undefined {
  return seen.get(handle);
}

/**
 * The cookie of `socket` at `fd` (default: its current fd), checked against
 * the one remembered for its handle; remembered on first sight. Throws
 * ESTALE when the fd now belongs to another socket, a system error when the
 * cookie cannot be read, and fdOf's errors for a socket without fd.
 */
export function checkedCookie(socket: net.Socket, fd: number = fdOf(socket, 'socket')): bigint {
  const cookie = readCookie(fd);
  const h = handleOf(socket);
  if (!h) return cookie;
  const known = seen.get(h);
  if (known === undefined) seen.set(h, cookie);
  else if (known !== cookie) {
    throw staleError(`fd ${fd} no longer belongs to this socket: SO_COOKIE changed`);
  }
  return cookie;
}

/** Like {@link checkedCookie}, but null when the socket has no usable, matching fd. Throws only off Linux (ERR_TCP_VITALS_UNSUPPORTED_PLATFORM). */
export function cookieOrNone(socket: net.Socket, fd: number): bigint | null {
  try {
    return checkedCookie(socket, fd);
  } catch (err) {
    if ((err as { code?: unknown })?.code === UNSUPPORTED_PLATFORM_CODE) throw err; // not a socket's state: say so
    return null;
  }
}

/**
 * fdOf() for the one-shot reads and writes (tcpInfo, queues, get/setsockopt,
 * setOptions, getOptions, delivery, reset): for a net.Socket, the fd is also
 * checked against the cookie remembered at the package's first sight of the
 * socket, so an fd closed behind Node's back and reused by another socket is
 * refused (ESTALE) instead of read or changed. A bare fd number is taken as
 * given, and so is a socket's fd where the kernel cannot give cookies.
 */
export function socketFd(target: Target, name = 'target'): number {
  const fd = fdOf(target, name);
  if (target instanceof net.Socket) {
    try {
      checkedCookie(target, fd);
    } catch (err) {
      if (!cookieUnavailable(err)) throw err;
    }
  }
  return fd;
}

/** Whether a cookie read failed because this kernel cannot give cookies (not because of the socket). */
export function cookieUnavailable(err: unknown): boolean {
  const code = (err as SystemError | undefined)?.code;
  return (code === 'EINVAL' || code === 'ENOPROTOOPT') && (err as SystemError).syscall === 'getsockopt';
}
