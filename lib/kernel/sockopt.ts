/** Generic socket options, queue sizes and SO_COOKIE. */
import { native } from './binding';
import { check, invalidArgType } from '../common/errors';
import { Target } from './fd';
import { socketFd } from './identity';
import { validateInteger } from '../common/validate';

/** Kernel constants from the addon (SOL_SOCKET, IPPROTO_TCP, TCP_*, SO_*, SIOC*). */
export const constants = native.constants;

const intScratch = Buffer.alloc(4);

/**
 * getsockopt on any level and option name. Without `size`, reads a C int and
 * returns it as a number. With `size` (1..65536 bytes), returns a Buffer of
 * the length the kernel wrote. Throws `getsockopt <CODE>` on failure.
 */
export function getsockopt(target: Target, level: number, name: number): number;
export function getsockopt(target: Target, level: number, name: number, size: number): Buffer;
export function getsockopt(target: Target, level: number, name: number, size?: number): number | Buffer {
  validateInteger('level', level, 0, 0x7fffffff);
  validateInteger('name', name, 0, 0x7fffffff);
  if (size !== undefined) validateInteger('size', size, 1, 65536);
  const fd = socketFd(target);
  if (size === undefined) {
    intScratch.fill(0);
    check(native.getsockopt(fd, level, name, intScratch), 'getsockopt');
    return intScratch.readInt32LE(0);
  }
  const buf = Buffer.alloc(size);
  const len = check(native.getsockopt(fd, level, name, buf), 'getsockopt');
  return buf.subarray(0, len);
}

/**
 * setsockopt on any level and option name. A number is passed as a C int
 * (-2^31..2^31-1), a boolean as 0/1, a Buffer/Uint8Array as raw bytes (at most
 * 65536). Throws `setsockopt <CODE>` on failure.
 */
export function setsockopt(target: Target, level: number, name: number, value: number | boolean | Uint8Array): void {
  validateInteger('level', level, 0, 0x7fffffff);
  validateInteger('name', name, 0, 0x7fffffff);
  let bytes: Uint8Array | undefined;
  let int = 0;
  if (typeof value === 'boolean') int = value ? 1 : 0;
  else if (typeof value === 'number') int = validateInteger('value', value, -0x80000000, 0x7fffffff);
  else if (value instanceof Uint8Array) {
    if (value.length > 65536) validateInteger('value.length', value.length, 0, 65536);
    bytes = value;
  } else throw invalidArgType('value', 'of type number, boolean, Buffer or Uint8Array', value);
  const fd = socketFd(target);
  if (bytes) check(native.setsockopt(fd, level, name, bytes), 'setsockopt');
  else check(native.setsockoptInt(fd, level, name, int), 'setsockopt');
}

/** Kernel queue sizes of a TCP socket, in bytes. */
export interface Queues {
  /** SIOCOUTQ: bytes written but not yet acknowledged (unsent + in flight; +1 for a queued FIN). */
  sendQueue: number;
  /** SIOCOUTQNSD: bytes in the send queue never transmitted. */
  unsent: number;
  /** sendQueue - unsent: bytes transmitted and awaiting acknowledgement. */
  unacknowledged: number;
  /** SIOCINQ: bytes received and not yet read by the application. */
  receiveQueue: number;
}

const queueScratch = new Int32Array(3);

/**
 * Queue sizes of a TCP socket, in bytes. Listening sockets give `ioctl EINVAL`;
 * non-TCP sockets (UDP, Unix) `ioctl ENOTSUP` (errno 95, Linux's EOPNOTSUPP,
 * which Node names ENOTSUP); non-sockets `ioctl ENOTSOCK`; closed fds
 * `ioctl EBADF`. The fd's type is checked before any ioctl, because SIOCINQ and
 * SIOCOUTQ are FIONREAD and TIOCOUTQ and would answer for a pipe or tty.
 */
export function queues(target: Target): Queues {
  const fd = socketFd(target);
  check(native.queues(fd, queueScratch), 'ioctl');
  const [sendQueue, unsent, receiveQueue] = queueScratch;
  return { sendQueue, unsent, unacknowledged: sendQueue - unsent, receiveQueue };
}

/**
 * SO_COOKIE: the socket's non-zero 64-bit id, unique until reboot (kernel
 * 4.12+). The same for every descriptor of one socket.
 */
export function socketCookie(target: Target): bigint {
  const fd = socketFd(target);
  const r = native.cookie(fd);
  if (typeof r === 'number') check(r, 'getsockopt', 'SO_COOKIE');
  return r as bigint;
}
