/**
 * The options a listening socket passes on to the sockets it accepts (Linux
 * clones SO_KEEPALIVE, TCP_KEEPIDLE/INTVL, TCP_USER_TIMEOUT and
 * TCP_RTO_MAX_MS into each child): read, restored, and the listener's accept
 * queue, for policy/protect/listener.ts.
 */
import { native } from './binding';
import { readOne } from './batch';
import { TCP_INFO_OFFSETS } from './tcpinfo';

const C = native.constants;
/** The options a listener passes on, in this order: [level, name]. */
const OPTIONS: ReadonlyArray<readonly [number, number]> = [
  [C.SOL_SOCKET, C.SO_KEEPALIVE], [C.IPPROTO_TCP, C.TCP_KEEPIDLE], [C.IPPROTO_TCP, C.TCP_KEEPINTVL],
  [C.IPPROTO_TCP, C.TCP_USER_TIMEOUT], [C.IPPROTO_TCP, C.TCP_RTO_MAX_MS],
];
const intBuf = Buffer.alloc(4);

function read(fd: number, level: number, name: number): number {
  return native.getsockopt(fd, level, name, intBuf) === 4 ? intBuf.readInt32LE(0) : -1;
}

/** `fd`'s inherited options, in the order SO_KEEPALIVE, KEEPIDLE, KEEPINTVL, USER_TIMEOUT, RTO_MAX_MS (-1: unknown). */
export function readInheritedOptions(fd: number): Int32Array {
  return Int32Array.from(OPTIONS, ([level, name]) => read(fd, level, name));
}

/** Puts `originals` back on `fd` where they differ from `applied` (same order; -1 left alone). */
export function restoreInheritedOptions(fd: number, originals: Int32Array, applied: Int32Array): void {
  for (let i = 0; i < OPTIONS.length; i++) {
    const v = originals[i];
    if (v >= 0 && v !== applied[i]) native.setsockoptInt(fd, OPTIONS[i][0], OPTIONS[i][1], v);
  }
}

/** Connections completed and waiting in listening `fd`'s accept queue (tcpi_unacked of a listener), 0 if unreadable. */
export function acceptQueueOf(fd: number): number {
  const cookie = native.cookie(fd);
  if (typeof cookie !== 'bigint' || cookie === 0n) return 0;
  const info = readOne(fd, cookie);
  return info ? info.u32(TCP_INFO_OFFSETS.unacked) : 0;
}
