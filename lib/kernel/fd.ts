/**
 * Finding the file descriptor behind a target, and the one "is it a TCP
 * socket" check. Every public reader (tcpInfo, queues, options, ...) reaches
 * Node's internal `_handle` through here. The hooks in lib/runtime/ are the
 * other code that touches Node internals (prototype methods, `_handle`,
 * owner_symbol).
 */
import * as net from 'node:net';
import { native } from './binding';
import { platformSupported, unsupportedPlatformError } from './platform';
import { check, codedError, invalidArgType, systemError } from '../common/errors';
import { INT32_MAX, validateInteger } from '../common/validate';

/** What the public functions accept: a socket, a listening server, or a raw fd. */
export type Target = net.Socket | net.Server | number;

interface HandleLike {
  fd?: number;
  _parent?: HandleLike;
}

/**
 * The libuv handle that owns the fd (for a TLSSocket, the TCP handle under
 * TLSWrap). TLSWrap keeps the handle it wraps in `_parent`; on Node 18 to 24 it also
 * has an `fd` of its own (-1 before connect, then its parent's), so having an
 * `fd` does not make a handle the libuv one: the innermost `_parent` is.
 */
export function handleOf(target: net.Socket | net.Server): object | null {
  let handle = (target as unknown as { _handle?: HandleLike | null })._handle ?? null;
  for (let depth = 0; handle && handle._parent && typeof handle._parent === 'object' && depth < 4; depth++) {
    handle = handle._parent;
  }
  return handle;
}

/**
 * Returns the fd of `target`. Throws ERR_INVALID_ARG_TYPE for anything that is
 * not a Target, ERR_OUT_OF_RANGE for a bad fd number, ERR_SOCKET_CLOSED for a
 * destroyed socket or closed server, ERR_SOCKET_NOT_CONNECTED for a socket that
 * has no descriptor yet.
 */
export function fdOf(target: Target, name = 'target'): number {
  if (typeof target === 'number') {
    return validateInteger(name, target, 0, INT32_MAX);
  }
  if (target instanceof net.Socket) {
    if (target.destroyed) throw codedError('ERR_SOCKET_CLOSED', 'Socket is closed');
    const handle = handleOf(target) as HandleLike | null;
    const fd = handle?.fd;
    if (typeof fd !== 'number' || fd < 0) {
      throw codedError('ERR_SOCKET_NOT_CONNECTED', 'Socket has no file descriptor yet (not connected)');
    }
    return fd;
  }
  if (target instanceof net.Server) {
    const handle = handleOf(target) as HandleLike | null;
    const fd = handle?.fd;
    if (typeof fd !== 'number' || fd < 0) throw codedError('ERR_SERVER_NOT_RUNNING', 'Server is not running.');
    return fd;
  }
  throw invalidArgType(name, 'an instance of net.Socket, tls.TLSSocket or net.Server, or a file descriptor number', target);
}

/** The fd of a socket, or -1 when it has none (not connected yet, destroyed). Never throws for a socket. */
export function fdOrNone(socket: net.Socket): number {
  try {
    return fdOf(socket);
  } catch {
    return -1;
  }
}

const kindScratch = Buffer.alloc(4);

function sockoptInt(fd: number, name: number, label: string): number {
  kindScratch.fill(0);
  check(native.getsockopt(fd, native.constants.SOL_SOCKET, name, kindScratch), 'getsockopt', label);
  return kindScratch.readInt32LE(0);
}

/** The error every API gives for a socket that is not TCP: `<syscall> ENOTSUP (not a TCP socket)`: errno EOPNOTSUPP (95 on Linux), which Node names ENOTSUP. */
export function notTcpError(syscall = 'getsockopt'): Error {
  return systemError(-native.constants.EOPNOTSUPP, syscall, 'not a TCP socket');
}

/**
 * Throws {@link notTcpError} unless `fd` is a TCP socket: SO_TYPE
 * SOCK_STREAM and SO_PROTOCOL IPPROTO_TCP (a SOCK_RAW socket of protocol
 * IPPROTO_TCP is not one). A failing read (EBADF, ENOTSOCK) throws
 * `getsockopt <CODE> (SO_TYPE)`.
 */
export function requireTcp(fd: number, syscall = 'getsockopt'): void {
  const C = native.constants;
  if (sockoptInt(fd, C.SO_TYPE, 'SO_TYPE') !== C.SOCK_STREAM || sockoptInt(fd, C.SO_PROTOCOL, 'SO_PROTOCOL') !== C.IPPROTO_TCP) {
    throw notTcpError(syscall);
  }
}

/**
 * The entry check of the socket APIs (failFast, watch, delivery, acked,
 * retain, gracefulClose, reset): throws {@link notTcpError} for a
 * net.Socket that is not TCP (a Unix-domain socket, with or without an fd
 * yet). A socket with no handle yet, or whose fd cannot be read, passes:
 * each API reports that state its own way. Off Linux: ERR_TCP_VITALS_UNSUPPORTED_PLATFORM.
 */
export function requireTcpSocket(socket: net.Socket): void {
  if (!platformSupported()) throw unsupportedPlatformError();
  const handle = handleOf(socket) as (HandleLike & { constructor?: { name?: string } }) | null;
  if (!handle) return;
  if (handle.constructor?.name === 'Pipe') throw notTcpError();
  const fd = handle.fd;
  if (typeof fd !== 'number' || fd < 0) return;
  try {
    requireTcp(fd);
  } catch (err) {
    if ((err as { errno?: number }).errno === -native.constants.EOPNOTSUPP) throw err;
  }
}
