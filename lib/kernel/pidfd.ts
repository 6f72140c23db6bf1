/**
 * Reading the TCP sockets of another process, read-only, through
 * pidfd_open(2) + pidfd_getfd(2) (Linux 5.6+; needs root or ptrace rights over
 * the process). Each descriptor is duplicated, read and closed at once by the
 * addon: getsockopt, getsockname/getpeername and the queue ioctls only.
 */
import { closeSync } from 'node:fs';
import { constants as os } from 'node:os';
import { native } from './binding';
import { systemError } from '../common/errors';
import { validateInteger } from '../common/validate';
import { Queues } from './sockopt';
import { decodeTcpInfo, TCP_INFO_BUFFER_SIZE, TcpInfo } from './tcpinfo';
import { SocketFd, socketFds } from './proc-net';

const C = native.constants;
const HEADER = C.INSPECT_HEADER;
/** Record stride: header + room for tcp_info growth. */
export const INSPECT_STRIDE = HEADER + TCP_INFO_BUFFER_SIZE;
const E = os.errno;

/** The options of a socket as the kernel holds them (times in ms). */
export interface InspectedOptions {
  /** SO_KEEPALIVE. */
  keepAlive: boolean;
  /** TCP_KEEPIDLE, ms (the socket's value, which starts as tcp_keepalive_time). */
  keepAliveIdle: number;
  /** TCP_KEEPINTVL, ms. */
  keepAliveInterval: number;
  /** TCP_KEEPCNT. */
  keepAliveCount: number;
  /** TCP_USER_TIMEOUT, ms (0 = not set). */
  userTimeout: number;
  /** TCP_SYNCNT (the socket's value, which starts as tcp_syn_retries). */
  synCount: number;
  /** TCP_NODELAY. */
  noDelay: boolean;
  /** TCP_RTO_MAX_MS, ms; absent before kernel 6.15. */
  rtoMax?: number;
}

/** An address as getsockname/getpeername give it. */
export interface SocketAddress {
  family: 'IPv4' | 'IPv6';
  /** IPv4-mapped IPv6 addresses are shown as IPv4. */
  address: string;
  port: number;
}

/** One TCP socket of another process. */
export interface InspectedSocket {
  /** Descriptor number in the target process. */
  fd: number;
  inode: number;
  /** SO_COOKIE. */
  cookie: bigint;
  local: SocketAddress;
  /** null for a listening or unconnected socket. */
  peer: SocketAddress | null;
  info: TcpInfo;
  /** null for a listening socket (the queue ioctls do not apply). */
  queues: Queues | null;
  options: InspectedOptions;
}

/** The TCP sockets of one process, and what was skipped. */
export interface ProcessSockets {
  pid: number;
  sockets: InspectedSocket[];
  /** Socket descriptors that are not TCP (Unix, UDP, netlink...). */
  otherSockets: number;
  /** Descriptors closed between listing and reading. */
  vanished: number;
}

function addressOf(buf: Buffer, at: number): SocketAddress | null {
  const family = buf.readUInt16LE(at);
  const port = buf.readUInt16BE(at + 2);
  if (family === C.AF_INET) return { family: 'IPv4', address: Array.from(buf.subarray(at + 4, at + 8)).join('.'), port };
  if (family !== C.AF_INET6) return null;
  const b = buf.subarray(at + 8, at + 24);
  if (b.readUInt32BE(0) === 0 && b.readUInt32BE(4) === 0 && b.readUInt32BE(8) === 0xffff) {
    return { family: 'IPv4', address: Array.from(b.subarray(12, 16)).join('.'), port };
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  const text = best < 0 ? groups.join(':')
    : `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  return { family: 'IPv6', address: text, port };
}

let recordBuf = Buffer.alloc(0);
let fdBuf = new Int32Array(0);

/** Decodes record i of `buf` (see src-native/pidfd.h). */
function decode(buf: Buffer, i: number, s: SocketFd): InspectedSocket {
  const at = i * INSPECT_STRIDE;
  const int = (k: number) => buf.readInt32LE(at + 4 * k);
  const flags = int(15);
  const rtoMax = int(14);
  const queues = flags & 1
    ? { sendQueue: int(2), unsent: int(3), unacknowledged: int(2) - int(3), receiveQueue: int(4) }
    : null;
  return {
    fd: s.fd,
    inode: s.inode,
    cookie: buf.readBigUInt64LE(at + 48),
    local: addressOf(buf, at + 64) ?? { family: 'IPv4', address: '0.0.0.0', port: 0 },
    peer: flags & 2 ? addressOf(buf, at + 96) : null,
    info: decodeTcpInfo(buf, int(0), at + HEADER),
    queues,
    options: {
      keepAlive: int(5) !== 0,
      keepAliveIdle: int(6) * 1000,
      keepAliveInterval: int(7) * 1000,
      keepAliveCount: int(8),
      userTimeout: int(9),
      synCount: int(10),
      noDelay: int(11) !== 0,
      ...(rtoMax >= 0 ? { rtoMax } : {}),
    },
  };
}

/**
 * The TCP sockets of process `pid`, read from the outside. Throws one system
 * error for the whole process: `pidfd_open ESRCH` (no such process), `open
 * EACCES (/proc/PID/fd)` or `pidfd_getfd EPERM` (no ptrace rights: run as root
 * or as the process's user with ptrace allowed), `pidfd_open ENOSYS` (kernel
 * before 5.6).
 */
export function inspectSockets(pid: number): ProcessSockets {
  validateInteger('pid', pid, 1, 0x3fffffff);
  const pidfd = native.pidfdOpen(pid);
  if (pidfd < 0) throw systemError(pidfd, 'pidfd_open', `pid ${pid}`);
  try {
    let fds: SocketFd[];
    try {
      fds = socketFds(pid);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EACCES') throw systemError(-E.EACCES, 'open', `/proc/${pid}/fd: needs root or ptrace rights over the process`);
      throw e;
    }
    if (fdBuf.length < fds.length) fdBuf = new Int32Array(fds.length);
    if (recordBuf.length < fds.length * INSPECT_STRIDE) recordBuf = Buffer.alloc(fds.length * INSPECT_STRIDE);
    fds.forEach((s, i) => { fdBuf[i] = s.fd; });
    native.inspectFds(pidfd, fdBuf, fds.length, recordBuf, INSPECT_STRIDE);
    const result: ProcessSockets = { pid, sockets: [], otherSockets: 0, vanished: 0 };
    for (let i = 0; i < fds.length; i++) {
      const errno = recordBuf.readInt32LE(i * INSPECT_STRIDE + 4);
      if (errno === 0) result.sockets.push(decode(recordBuf, i, fds[i]));
      else if (errno === E.EOPNOTSUPP || errno === E.ENOTSOCK || errno === E.ENOPROTOOPT) result.otherSockets++;
      else if (errno === E.EBADF) result.vanished++;
      else if (errno === E.ESRCH) throw systemError(-errno, 'pidfd_getfd', `pid ${pid} exited`);
      else {
        const why = errno === E.EPERM ? `pid ${pid}: needs root or ptrace rights over the process` : `pid ${pid} fd ${fds[i].fd}`;
        throw systemError(-errno, 'pidfd_getfd', why);
      }
    }
    return result;
  } finally {
    closeSync(pidfd);
  }
}
