/**
 * Finding the file descriptor behind a target. This is the only module that
 * reaches into Node internals (`_handle`).
 */
import * as net from 'node:net';
import { codedError, invalidArgType } from '../common/errors';
import { INT32_MAX, validateInteger } from '../common/validate';

/** What the public functions accept: a socket, a listening server, or a raw fd. */
export type Target = net.Socket | net.Server | number;

interface HandleLike {
  fd?: number;
  _parent?: HandleLike;
}

/** The libuv handle that owns the fd (for a TLSSocket, the TCP handle under TLSWrap). */
export function handleOf(target: net.Socket | net.Server): object | null {
  let handle = (target as unknown as { _handle?: HandleLike | null })._handle ?? null;
  // TLSWrap keeps the TCP handle it wraps in `_parent`.
  for (let depth = 0; handle && typeof handle.fd !== 'number' && handle._parent && depth < 4; depth++) {
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
