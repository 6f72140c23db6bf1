/**
 * The inspect addon functions straight at the native layer: pidfdOpen,
 * inspectFds and readFilesInNetns. Misuse throws (never crashes), syscall
 * failures are per-record errno or -errno, records stay inside the buffer,
 * and the duplicates are closed.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { closeSync, openSync, readdirSync } from 'node:fs';
import { constants as os } from 'node:os';
import { native } from '../lib/kernel/binding';
import { fdOf } from '../lib/kernel/fd';
import { INSPECT_STRIDE } from '../lib/kernel/pidfd';
import { loopbackPair, LoopbackPair } from './helpers/loopback';

const E = os.errno;
/** The name of what `f` throws (the addon's errors come from another realm than jest's globals). */
const thrown = (f: () => unknown): string => {
  try { f(); } catch (e) { return (e as Error).name; }
  return 'nothing';
};
const HEADER = native.constants.INSPECT_HEADER;

describe('pidfdOpen / inspectFds on this process', () => {
  let pair: LoopbackPair;
  let pidfd: number;
  beforeAll(async () => {
    pair = await loopbackPair();
    pidfd = native.pidfdOpen(process.pid);
  });
  afterAll(async () => {
    closeSync(pidfd);
    await pair.close();
  });

  test('pidfdOpen: an fd, or -errno (ESRCH for a pid that does not exist)', () => {
    expect(pidfd).toBeGreaterThan(2);
    expect(native.pidfdOpen(0x3fffffff)).toBe(-E.ESRCH);
  });

  test('one record per fd: TCP read, UDP and a file skipped with their errno, a closed fd EBADF; nothing written past count', async () => {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const file = openSync(__filename, 'r');
    const closed = openSync(__filename, 'r');
    closeSync(closed);
    try {
      const fds = Int32Array.from([fdOf(pair.client), (udp as unknown as { _handle: { fd: number } })._handle.fd, file, closed]);
      const backing = Buffer.alloc(5 * INSPECT_STRIDE + 64, 0xaa);
      const out = backing.subarray(32, 32 + 4 * INSPECT_STRIDE);
      const before = readdirSync('/proc/self/fd').length;
      expect(native.inspectFds(pidfd, fds, 4, out, INSPECT_STRIDE)).toBe(4);
      expect(readdirSync('/proc/self/fd').length).toBe(before); // every duplicate closed
      const errno = (i: number) => out.readInt32LE(i * INSPECT_STRIDE + 4);
      expect([errno(0), errno(1), errno(2), errno(3)]).toEqual([0, E.EOPNOTSUPP, E.ENOTSOCK, E.EBADF]);
      expect(out.readInt32LE(0)).toBeGreaterThanOrEqual(104); // tcp_info length
      expect(out[HEADER]).toBe(1); // ESTABLISHED
      expect(out.readBigUInt64LE(48)).toBe(native.cookie(fdOf(pair.client)));
      expect(backing.subarray(0, 32).every((b) => b === 0xaa)).toBe(true);
      expect(backing.subarray(32 + 4 * INSPECT_STRIDE).every((b) => b === 0xaa)).toBe(true);
    } finally {
      closeSync(file);
      udp.close();
    }
  });

  test('misuse throws TypeError/RangeError instead of crashing', () => {
    const fds = Int32Array.from([fdOf(pair.client)]);
    const out = Buffer.alloc(INSPECT_STRIDE);
    const n = native as unknown as Record<string, (...a: unknown[]) => unknown>;
    expect(thrown(() => n.pidfdOpen())).toBe('TypeError');
    expect(thrown(() => n.pidfdOpen('1'))).toBe('TypeError');
    expect(thrown(() => n.pidfdOpen(0))).toBe('RangeError');
    expect(thrown(() => n.pidfdOpen(1.5))).toBe('RangeError');
    expect(thrown(() => n.inspectFds(pidfd, [3], 1, out, INSPECT_STRIDE))).toBe('TypeError');
    expect(thrown(() => n.inspectFds(pidfd, fds, 1, new Uint16Array(INSPECT_STRIDE), INSPECT_STRIDE))).toBe('TypeError');
    expect(thrown(() => n.inspectFds(pidfd, fds, 2, out, INSPECT_STRIDE))).toBe('RangeError');
    expect(thrown(() => n.inspectFds(pidfd, fds, 1, out, HEADER + 100))).toBe('RangeError');
    expect(thrown(() => n.inspectFds(pidfd, fds, 1, out.subarray(0, 100), INSPECT_STRIDE))).toBe('RangeError');
    expect(thrown(() => n.inspectFds(-1, fds, 1, out, INSPECT_STRIDE))).toBe('RangeError');
    expect(thrown(() => n.inspectFds(pidfd, fds, -1, out, INSPECT_STRIDE))).toBe('RangeError');
    expect(thrown(() => n.readFilesInNetns(1, []))).toBe('TypeError');
    expect(thrown(() => n.readFilesInNetns('/proc/self/ns/net', ['a', 1]))).toBe('TypeError');
  });

  test('a descriptor that is not a pidfd gives EBADF per record, not a crash', () => {
    const file = openSync(__filename, 'r');
    try {
      const out = Buffer.alloc(INSPECT_STRIDE);
      native.inspectFds(file, Int32Array.from([fdOf(pair.client)]), 1, out, INSPECT_STRIDE);
      expect(out.readInt32LE(4)).toBe(E.EBADF);
      expect(out.readInt32LE(0)).toBe(0);
    } finally {
      closeSync(file);
    }
  });

  test('readFilesInNetns: contents or -errno per file; -errno when the path is not a namespace', () => {
    const r = native.readFilesInNetns('/proc/self/ns/net', ['/proc/sys/net/ipv4/tcp_retries2', '/proc/sys/net/ipv4/no_such_knob']);
    expect(Array.isArray(r)).toBe(true);
    expect((r as Array<string | number>)[0]).toMatch(/^\d+\n$/);
    expect((r as Array<string | number>)[1]).toBe(-E.ENOENT);
    expect(native.readFilesInNetns('/no/such/ns', [])).toBe(-E.ENOENT);
    expect(native.readFilesInNetns(__filename, [])).toBe(-E.EINVAL); // not a namespace file
  });
});

describe('addresses as getsockname/getpeername give them', () => {
  test('IPv6 (::1), and IPv4-mapped IPv6 shown as IPv4, each matching what Node reports', async () => {
    const { inspectSockets } = await import('../lib/kernel/pidfd');
    const server = net.createServer();
    const accepted: net.Socket[] = [];
    server.on('connection', (s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(0, '::', r));
    const port = (server.address() as net.AddressInfo).port;
    const connect = (host: string) => new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(s));
      s.once('error', reject);
    });
    const v6 = await connect('::1');
    const v4 = await connect('127.0.0.1');
    try {
      for (let i = 0; i < 100 && accepted.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      const read = inspectSockets(process.pid).sockets;
      const strip = (a: string | undefined) => String(a).replace(/^::ffff:/, '');
      for (const s of [v6, v4, ...accepted]) {
        const r = read.find((x) => x.fd === fdOf(s))!;
        expect([r.local.address, r.local.port, r.peer?.address, r.peer?.port])
          .toEqual([strip(s.localAddress), s.localPort, strip(s.remoteAddress), s.remotePort]);
      }
      expect(read.find((x) => x.fd === fdOf(v6))!.local.family).toBe('IPv6');
      expect(read.find((x) => x.fd === fdOf(accepted[1]))!.local).toEqual({ family: 'IPv4', address: '127.0.0.1', port });
      const listener = read.find((x) => x.info.state === 'LISTEN' && x.local.port === port)!;
      expect([listener.local.address, listener.peer, listener.queues]).toEqual(['::', null, null]);
    } finally {
      for (const s of [v6, v4, ...accepted]) s.destroy();
      server.close();
    }
  });
});
