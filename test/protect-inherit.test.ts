/**
 * What protect({ servers: true }) relies on to skip every per-connection
 * setsockopt: on this kernel, a listening socket's SO_KEEPALIVE,
 * TCP_KEEPIDLE/INTVL/CNT, TCP_USER_TIMEOUT and TCP_RTO_MAX_MS are copied to
 * the sockets it accepts (the child sock is a clone of the listener). Real
 * loopback sockets; each option is set to a value no default has, on the
 * listener only, and read back from the accepted socket.
 */
import * as net from 'node:net';
import { native } from '../dist/kernel/binding';

const C = native.constants;
const intBuf = Buffer.alloc(4);
function get(fd: number, level: number, name: number): number {
  const r = native.getsockopt(fd, level, name, intBuf);
  if (r < 0) throw new Error(`getsockopt(${name}) -> ${r}`);
  return intBuf.readInt32LE(0);
}
const fdOf = (x: net.Server | net.Socket): number => (x as unknown as { _handle: { fd: number } })._handle.fd;

const OPTIONS: Array<[string, number, number, number]> = [
  ['SO_KEEPALIVE', C.SOL_SOCKET, C.SO_KEEPALIVE, 1],
  ['TCP_KEEPIDLE', C.IPPROTO_TCP, C.TCP_KEEPIDLE, 37],
  ['TCP_KEEPINTVL', C.IPPROTO_TCP, C.TCP_KEEPINTVL, 3],
  ['TCP_KEEPCNT', C.IPPROTO_TCP, C.TCP_KEEPCNT, 4],
  ['TCP_USER_TIMEOUT', C.IPPROTO_TCP, C.TCP_USER_TIMEOUT, 4321],
  ['TCP_RTO_MAX_MS', C.IPPROTO_TCP, C.TCP_RTO_MAX_MS, 3000],
];

async function acceptedPair(setup: (listenerFd: number) => void): Promise<{ server: net.Server; client: net.Socket; accepted: net.Socket }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  setup(fdOf(server));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  return { server, client, accepted: await accepted };
}

describe('a listener\'s options are inherited by the sockets it accepts (this kernel)', () => {
  test.each(OPTIONS)('%s', async (name, level, opt, value) => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const supported = native.setsockoptInt(fdOf(probe), level, opt, value);
    probe.close();
    // TCP_RTO_MAX_MS is Linux 6.15+: older kernels answer ENOPROTOOPT, and protect() leaves it alone there.
    if (name === 'TCP_RTO_MAX_MS' && supported === -C.ENOPROTOOPT) return;
    expect(supported).toBe(0);
    const plain = await acceptedPair(() => {});
    const before = get(fdOf(plain.accepted), level, opt);
    expect(before).not.toBe(value); // the value is not a default: inheriting it is visible
    const set = await acceptedPair((fd) => expect(native.setsockoptInt(fd, level, opt, value)).toBe(0));
    try {
      expect({ name, accepted: get(fdOf(set.accepted), level, opt) }).toEqual({ name, accepted: value });
      expect(get(fdOf(set.client), level, opt)).toBe(before); // the connecting side is not touched
    } finally {
      for (const p of [plain, set]) { p.client.destroy(); p.accepted.destroy(); p.server.close(); }
    }
  });
});
