/**
 * The raw addon (`native`): kernel constants, memory bounds, the batch read,
 * and misuse straight at the native functions (wrong counts, wrong types,
 * counts larger than the buffers), which must throw and never crash.
 * Also run by `npm run test:prebuild` against the shipped prebuilt binary.
 */
import * as dgram from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { native } from '../lib/kernel/binding';
import { fdOf } from '../lib/kernel/fd';
import { queues, socketCookie } from '../lib/kernel/sockopt';
import { decodeTcpInfo, tcpInfo } from '../lib/kernel/tcpinfo';
import { LoopbackPair, loopbackPair, sleep } from './helpers/loopback';

const C = native.constants;

test('constants are the x86-64 / generic Linux ABI values', () => {
  expect(C).toMatchObject({
    SOL_SOCKET: 1, IPPROTO_TCP: 6, IPPROTO_IP: 0, IPPROTO_IPV6: 41,
    SO_KEEPALIVE: 9, SO_LINGER: 13, SO_SNDBUF: 7, SO_RCVBUF: 8, SO_ERROR: 4, SO_TYPE: 3,
    SO_PROTOCOL: 38, SO_DOMAIN: 39, SO_COOKIE: 57, SO_MAX_PACING_RATE: 47,
    TCP_NODELAY: 1, TCP_MAXSEG: 2, TCP_KEEPIDLE: 4, TCP_KEEPINTVL: 5, TCP_KEEPCNT: 6, TCP_SYNCNT: 7,
    TCP_INFO: 11, TCP_CONGESTION: 13, TCP_USER_TIMEOUT: 18, TCP_NOTSENT_LOWAT: 25, TCP_RTO_MAX_MS: 44,
    SIOCINQ: 0x541b, SIOCOUTQ: 0x5411, SIOCOUTQNSD: 0x894b,
    AF_INET: 2, AF_INET6: 10, AF_UNIX: 1, SOCK_STREAM: 1, SOCK_DGRAM: 2,
    ESTALE: osConstants.errno.ESTALE, RECORD_HEADER: 32,
  });
  for (const v of Object.values(C)) expect(Number.isInteger(v)).toBe(true);
});

describe('on a live connection', () => {
  let pair: LoopbackPair;
  beforeAll(async () => {
    pair = await loopbackPair();
    pair.client.write('x'.repeat(5000));
    pair.peer.on('data', () => {});
    await sleep(100);
  });
  afterAll(() => pair.close());

  test('tcpInfo writes only inside the view it is given (a subarray at an offset)', () => {
    const backing = Buffer.alloc(1024, 0xaa);
    const view = backing.subarray(100, 100 + 64);
    expect(native.tcpInfo(fdOf(pair.client), view)).toBe(64);
    expect(backing.subarray(0, 100).every((b) => b === 0xaa)).toBe(true);
    expect(backing.subarray(164).every((b) => b === 0xaa)).toBe(true);
    expect(view[0]).toBe(1); // ESTABLISHED
    // A zero-length buffer is a valid request for zero bytes.
    expect(native.tcpInfo(fdOf(pair.client), Buffer.alloc(0))).toBe(0);
    expect(native.getsockopt(fdOf(pair.client), C.SOL_SOCKET, C.SO_TYPE, Buffer.alloc(0))).toBe(0);
  });

  test('getsockopt writes at most the buffer; the rest of the backing store is untouched', () => {
    const backing = Buffer.alloc(64, 0xaa);
    const view = backing.subarray(8, 10); // 2 bytes for a 4-byte int option
    const r = native.getsockopt(fdOf(pair.client), C.SOL_SOCKET, C.SO_TYPE, view);
    expect(r).toBeLessThanOrEqual(2);
    expect(backing.subarray(0, 8).every((b) => b === 0xaa)).toBe(true);
    expect(backing.subarray(10).every((b) => b === 0xaa)).toBe(true);
  });

  test('syscall failures come back as -errno, not as exceptions', () => {
    const closed = openSync(__filename, 'r');
    closeSync(closed);
    expect(native.tcpInfo(closed, Buffer.alloc(512))).toBe(-osConstants.errno.EBADF);
    expect(native.cookie(closed)).toBe(-osConstants.errno.EBADF);
    expect(native.queues(closed, new Int32Array(3))).toBe(-osConstants.errno.EBADF);
    expect(native.setsockoptInt(fdOf(pair.client), C.IPPROTO_TCP, 9999, 1)).toBe(-osConstants.errno.ENOPROTOOPT);
    expect(native.setsockopt(fdOf(pair.client), C.IPPROTO_TCP, C.TCP_CONGESTION, Buffer.from('nosuchcc'))).toBe(-osConstants.errno.ENOENT);
  });

  test('readBatch: one record per fd, errno per record, cookie mismatch is ESTALE', async () => {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const file = openSync(__filename, 'r');
    // Closed last, so no other descriptor created here reuses its number.
    const closed = openSync(__filename, 'r');
    closeSync(closed);
    try {
      const udpFd = (udp as unknown as { _handle: { fd: number } })._handle.fd;
      const client = fdOf(pair.client);
      const fds = Int32Array.from([client, closed, file, client, client, fdOf(pair.server)]);
      const cookie = socketCookie(pair.client);
      const cookies = BigUint64Array.from([cookie, 0n, 0n, cookie + 1n, 0n, 0n]);
      const stride = 32 + 512;
      const out = Buffer.alloc(fds.length * stride, 0xcc);
      expect(native.readBatch(fds, cookies, fds.length, out, stride)).toBe(fds.length);
      const rec = (i: number) => ({
        infoLength: out.readInt32LE(i * stride), errno: out.readInt32LE(i * stride + 4),
        sendQueue: out.readInt32LE(i * stride + 8), unsent: out.readInt32LE(i * stride + 12),
      });
      const info = tcpInfo(pair.client);
      expect(rec(0)).toEqual({ infoLength: info.length, errno: 0, sendQueue: queues(pair.client).sendQueue, unsent: 0 });
      const decoded = decodeTcpInfo(out, rec(0).infoLength, 32);
      expect(decoded.state).toBe('ESTABLISHED');
      expect(decoded.bytesAcked).toBe(info.bytesAcked);
      expect(rec(1)).toMatchObject({ infoLength: 0, errno: osConstants.errno.EBADF });
      expect(rec(2)).toMatchObject({ infoLength: 0, errno: osConstants.errno.ENOTSOCK });
      expect(rec(3)).toEqual({ infoLength: 0, errno: osConstants.errno.ESTALE, sendQueue: 0, unsent: 0 });
      expect(rec(4).errno).toBe(0);
      // A listening socket: tcp_info works, SIOCOUTQ is EINVAL.
      expect(rec(5)).toMatchObject({ infoLength: 0, errno: osConstants.errno.EINVAL });
      // Failed records are zeroed, not left with stale or foreign bytes.
      expect(out.subarray(stride + 32, 2 * stride).every((b) => b === 0)).toBe(true);
      // UDP: tcp_info refuses it before any ioctl could answer for it.
      const one = Buffer.alloc(stride);
      native.readBatch(Int32Array.from([udpFd]), null, 1, one, stride);
      expect(one.readInt32LE(4)).toBe(osConstants.errno.EOPNOTSUPP);
    } finally {
      udp.close();
      closeSync(file);
    }
  });

  test('readBatch writes only count * stride bytes', () => {
    const stride = 32 + 280;
    const backing = Buffer.alloc(10 * stride, 0xaa);
    native.readBatch(Int32Array.from([fdOf(pair.client), fdOf(pair.client)]), null, 1, backing, stride);
    expect(backing.readInt32LE(4)).toBe(0);
    expect(backing.subarray(stride).every((b) => b === 0xaa)).toBe(true);
    expect(native.readBatch(new Int32Array(0), null, 0, Buffer.alloc(0), stride)).toBe(0);
  });
});

describe('misuse straight at the native functions throws, never crashes', () => {
  const fd = 0;
  const buf = Buffer.alloc(16);
  type AnyFunction = (...args: unknown[]) => unknown;
  const cases: Array<[string, () => unknown, ErrorConstructor]> = [
    ['getsockopt()', () => (native.getsockopt as AnyFunction)(), TypeError],
    ['getsockopt(fd, level, name)', () => (native.getsockopt as AnyFunction)(fd, 1, 3), TypeError],
    ['getsockopt with a string fd', () => native.getsockopt('0' as unknown as number, 1, 3, buf), TypeError],
    ['getsockopt with fd -1', () => native.getsockopt(-1, 1, 3, buf), RangeError],
    ['getsockopt with fd 1.5', () => native.getsockopt(1.5, 1, 3, buf), RangeError],
    ['getsockopt with fd 2^31', () => native.getsockopt(2 ** 31, 1, 3, buf), RangeError],
    ['getsockopt with NaN level', () => native.getsockopt(fd, NaN, 3, buf), RangeError],
    ['getsockopt into an Int32Array', () => native.getsockopt(fd, 1, 3, new Int32Array(4) as unknown as Uint8Array), TypeError],
    ['getsockopt into an ArrayBuffer', () => native.getsockopt(fd, 1, 3, new ArrayBuffer(4) as unknown as Uint8Array), TypeError],
    ['getsockopt into a DataView', () => native.getsockopt(fd, 1, 3, new DataView(new ArrayBuffer(4)) as unknown as Uint8Array), TypeError],
    ['getsockopt into a string', () => native.getsockopt(fd, 1, 3, 'abcd' as unknown as Uint8Array), TypeError],
    ['setsockopt from null', () => native.setsockopt(fd, 1, 3, null as unknown as Uint8Array), TypeError],
    ['setsockoptInt with a bigint', () => native.setsockoptInt(fd, 6, 1, 1n as unknown as number), TypeError],
    ['setsockoptInt with 2^31', () => native.setsockoptInt(fd, 6, 1, 2 ** 31), RangeError],
    ['setsockoptInt()', () => (native.setsockoptInt as AnyFunction)(), TypeError],
    ['cookie()', () => (native.cookie as AnyFunction)(), TypeError],
    ['cookie({})', () => native.cookie({} as unknown as number), TypeError],
    ['queues(fd)', () => (native.queues as AnyFunction)(fd), TypeError],
    ['queues into Int32Array(2)', () => native.queues(fd, new Int32Array(2)), TypeError],
    ['queues into Uint32Array(3)', () => native.queues(fd, new Uint32Array(3) as unknown as Int32Array), TypeError],
    ['tcpInfo(fd)', () => (native.tcpInfo as AnyFunction)(fd), TypeError],
    ['tcpInfo(undefined, buf)', () => native.tcpInfo(undefined as unknown as number, buf), TypeError],
    ['readBatch()', () => (native.readBatch as AnyFunction)(), TypeError],
    ['readBatch with count > fds', () => native.readBatch(new Int32Array(1), null, 2, Buffer.alloc(4096), 136), RangeError],
    ['readBatch with count * stride > out', () => native.readBatch(new Int32Array(4), null, 4, Buffer.alloc(136 * 3), 136), RangeError],
    ['readBatch with count > cookies', () => native.readBatch(new Int32Array(4), new BigUint64Array(1), 4, Buffer.alloc(4096), 136), RangeError],
    ['readBatch with a negative count', () => native.readBatch(new Int32Array(4), null, -1, Buffer.alloc(4096), 136), RangeError],
    ['readBatch with stride 135', () => native.readBatch(new Int32Array(1), null, 1, Buffer.alloc(4096), 135), RangeError],
    ['readBatch with stride 140 (not a multiple of 8)', () => native.readBatch(new Int32Array(1), null, 1, Buffer.alloc(4096), 140), RangeError],
    ['readBatch with stride -8', () => native.readBatch(new Int32Array(1), null, 1, Buffer.alloc(4096), -8), RangeError],
    ['readBatch with huge count and stride', () => native.readBatch(new Int32Array(1), null, 2 ** 31 - 1, Buffer.alloc(4096), 2 ** 31 - 8), RangeError],
    ['readBatch with a plain array of fds', () => native.readBatch([1] as unknown as Int32Array, null, 1, Buffer.alloc(4096), 136), TypeError],
    ['readBatch with signed cookies', () => native.readBatch(new Int32Array(1), new BigInt64Array(1) as unknown as BigUint64Array, 1, Buffer.alloc(4096), 136), TypeError],
    ['readBatch into an Int32Array', () => native.readBatch(new Int32Array(1), null, 1, new Int32Array(1024) as unknown as Uint8Array, 136), TypeError],
  ];
  test.each(cases)('%s', (_name, call, type) => {
    let caught: unknown;
    try { call(); } catch (e) { caught = e; }
    // Errors made by the addon come from the main realm, not jest's sandbox:
    // compare by name rather than instanceof.
    expect({ name: (caught as Error)?.name, message: typeof (caught as Error)?.message }).toEqual({ name: type.name, message: 'string' });
  });
});
