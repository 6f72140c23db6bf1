/**
 * setOptions/getOptions round trips on a real socket, refusals that leave the
 * socket untouched, raw getsockopt/setsockopt, and SO_COOKIE.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { fdOf } from '../lib/kernel/fd';
import { getOptions, setOptions, SocketOptions } from '../lib/kernel/options';
import { constants, getsockopt, setsockopt, socketCookie } from '../lib/kernel/sockopt';
import { LoopbackPair, loopbackPair } from './helpers/loopback';
import { describeNetns } from './helpers/netns';

const sysctl = (name: string) => Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim());

describe('setOptions / getOptions', () => {
  let pair: LoopbackPair;
  beforeEach(async () => { pair = await loopbackPair(); });
  afterEach(() => pair.close());

  test('defaults come from this namespace\'s sysctls', () => {
    const o = getOptions(pair.client);
    expect(o.keepAlive).toBe(false);
    expect(o.keepAliveIdle).toBe(sysctl('tcp_keepalive_time') * 1000);
    expect(o.keepAliveInterval).toBe(sysctl('tcp_keepalive_intvl') * 1000);
    expect(o.keepAliveCount).toBe(sysctl('tcp_keepalive_probes'));
    expect(o.synCount).toBe(sysctl('tcp_syn_retries'));
    expect(o.userTimeout).toBe(0);
    expect(o.linger).toBe(false);
    expect(o.congestion).toBe(readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim());
  });

  test('every option round-trips (SO_SNDBUF/SO_RCVBUF come back doubled)', () => {
    const hasRtoMax = getOptions(pair.client).rtoMax !== undefined;
    const want: SocketOptions = {
      keepAlive: true,
      keepAliveIdle: 5000,
      keepAliveInterval: 2000,
      keepAliveCount: 4,
      userTimeout: 12_345,
      noDelay: true,
      linger: 3000,
      notSentLowat: 16_384,
      synCount: 3,
      sendBuffer: 65_536,
      receiveBuffer: 65_536,
      congestion: 'reno', // always built in and always allowed
      ...(hasRtoMax ? { rtoMax: 5000 } : {}),
    };
    setOptions(pair.client, want);
    expect(getOptions(pair.client)).toEqual({ ...want, sendBuffer: 131_072, receiveBuffer: 131_072 });
    // And back again, through the other value of each boolean / linger.
    setOptions(pair.client, { keepAlive: false, noDelay: false, linger: false, userTimeout: 0, notSentLowat: 0 });
    const back = getOptions(pair.client);
    expect(back).toMatchObject({ keepAlive: false, noDelay: false, linger: false, userTimeout: 0 });
    // notSentLowat 0 means "use the sysctl (tcp_notsent_lowat)"; the socket reports 0, not the sysctl.
    expect(back.notSentLowat).toBe(0);
    setOptions(pair.client, { linger: 0 });
    expect(getOptions(pair.client).linger).toBe(0);
  });

  test('values agree with raw getsockopt (the kernel\'s units)', () => {
    setOptions(pair.client, { keepAliveIdle: 7000, userTimeout: 4321 });
    expect(getsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_KEEPIDLE)).toBe(7);
    expect(getsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_USER_TIMEOUT)).toBe(4321);
  });

  test('Node\'s setKeepAlive(true, 1000) also fixes interval 1 s and count 10', () => {
    pair.client.setKeepAlive(true, 1000);
    expect(getOptions(pair.client)).toMatchObject({ keepAlive: true, keepAliveIdle: 1000, keepAliveInterval: 1000, keepAliveCount: 10 });
  });

  test('a whole-second option that is not whole seconds is refused with ERR_OUT_OF_RANGE, never rounded', () => {
    for (const bad of [{ keepAliveIdle: 1500 }, { keepAliveInterval: 999 }, { keepAliveIdle: 0 }, { linger: 2500 }, { keepAliveIdle: 32768000 }]) {
      let caught: unknown;
      try { setOptions(pair.client, bad as SocketOptions); } catch (e) { caught = e; }
      expect(caught).toBeInstanceOf(RangeError);
      expect(caught).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      expect((caught as Error).message).toMatch(/whole seconds/);
    }
    expect(getOptions(pair.client).keepAliveIdle).toBe(sysctl('tcp_keepalive_time') * 1000);
  });

  test('bad values and unknown keys are refused with Node\'s codes', () => {
    const cases: Array<[unknown, string, ErrorConstructor]> = [
      [{ keepAliveCount: 0 }, 'ERR_OUT_OF_RANGE', RangeError],
      [{ keepAliveCount: 128 }, 'ERR_OUT_OF_RANGE', RangeError],
      [{ keepAliveCount: 2.5 }, 'ERR_OUT_OF_RANGE', RangeError],
      [{ userTimeout: -1 }, 'ERR_OUT_OF_RANGE', RangeError],
      [{ userTimeout: '1000' }, 'ERR_INVALID_ARG_TYPE', TypeError],
      [{ keepAlive: 1 }, 'ERR_INVALID_ARG_TYPE', TypeError],
      [{ synCount: 200 }, 'ERR_OUT_OF_RANGE', RangeError],
      [{ rtoMax: 999 }, 'ERR_OUT_OF_RANGE', RangeError],
      [{ congestion: '' }, 'ERR_INVALID_ARG_VALUE', TypeError],
      [{ congestion: 'x'.repeat(16) }, 'ERR_INVALID_ARG_VALUE', TypeError],
      [{ congestion: 42 }, 'ERR_INVALID_ARG_TYPE', TypeError],
      [{ keepAliveTimeout: 1000 }, 'ERR_INVALID_ARG_VALUE', TypeError],
      [null, 'ERR_INVALID_ARG_TYPE', TypeError],
      ['fast', 'ERR_INVALID_ARG_TYPE', TypeError],
    ];
    for (const [options, code, type] of cases) {
      let caught: unknown;
      try { setOptions(pair.client, options as SocketOptions); } catch (e) { caught = e; }
      expect({ options, code: (caught as { code?: string })?.code, type: (caught as Error)?.constructor }).toEqual({ options, code, type });
    }
  });

  test('nothing is half-applied: a bad option anywhere leaves every other option as it was', () => {
    const before = getOptions(pair.client);
    expect(() => setOptions(pair.client, { noDelay: true, keepAlive: true, userTimeout: 5000, keepAliveIdle: 1500 })).toThrow(RangeError);
    expect(() => setOptions(pair.client, { noDelay: true, keepAliveCount: 3, bogus: 1 } as SocketOptions)).toThrow(TypeError);
    expect(getOptions(pair.client)).toEqual(before);
  });

  test('a kernel refusal (unknown congestion module) leaves every other option as it was', () => {
    const before = getOptions(pair.client);
    let caught: unknown;
    try {
      setOptions(pair.client, { noDelay: true, keepAliveIdle: 9000, ...(before.rtoMax ? { rtoMax: 3000 } : {}), congestion: 'nosuchcc' });
    } catch (e) { caught = e; }
    expect(caught).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'setsockopt' });
    expect((caught as Error).message).toBe('setsockopt ENOENT (congestion)');
    expect(getOptions(pair.client)).toEqual(before);
  });

  test('only own properties are options: nothing is read through the prototype chain', () => {
    const before = getOptions(pair.client);
    setOptions(pair.client, Object.create({ keepAlive: true, noDelay: true, userTimeout: 4000 }) as SocketOptions);
    expect(getOptions(pair.client)).toEqual(before);
    const proto = Object.prototype as Record<string, unknown>;
    proto.keepAlive = true;
    proto.userTimeout = 3000;
    try {
      setOptions(pair.client, { keepAliveIdle: 9000 });
    } finally {
      delete proto.keepAlive;
      delete proto.userTimeout;
    }
    expect(getOptions(pair.client)).toEqual({ ...before, keepAliveIdle: 9000 });
  });

  test('the options of a listening socket are inherited by the sockets it accepts', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      setOptions(server, { keepAlive: true, keepAliveIdle: 11_000, userTimeout: 7000 });
      const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
      const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      const peer = await accepted;
      expect(getOptions(peer)).toMatchObject({ keepAlive: true, keepAliveIdle: 11_000, userTimeout: 7000 });
      client.destroy();
      peer.destroy();
    } finally {
      server.close();
    }
  });
});

describe('raw getsockopt / setsockopt', () => {
  let pair: LoopbackPair;
  beforeAll(async () => { pair = await loopbackPair(); });
  afterAll(() => pair.close());

  test('int form', () => {
    setsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_USER_TIMEOUT, 2500);
    expect(getsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_USER_TIMEOUT)).toBe(2500);
    setsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_NODELAY, true);
    expect(getsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_NODELAY)).toBe(1);
    setsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_NODELAY, false);
    expect(getsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_NODELAY)).toBe(0);
    expect(getsockopt(pair.client, constants.SOL_SOCKET, constants.SO_TYPE)).toBe(constants.SOCK_STREAM);
    expect(getsockopt(pair.client, constants.SOL_SOCKET, constants.SO_DOMAIN)).toBe(constants.AF_INET);
  });

  test('buffer form: SO_LINGER struct, TCP_CONGESTION name, TCP_INFO length', () => {
    const linger = Buffer.alloc(8);
    linger.writeInt32LE(1, 0);
    linger.writeInt32LE(4, 4);
    setsockopt(pair.client, constants.SOL_SOCKET, constants.SO_LINGER, linger);
    expect(getsockopt(pair.client, constants.SOL_SOCKET, constants.SO_LINGER, 8)).toEqual(linger);
    setsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_CONGESTION, Buffer.from('reno'));
    const name = getsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_CONGESTION, 16);
    expect(name.length).toBe(16);
    expect(name.toString('latin1').replace(/\0+$/, '')).toBe('reno');
    // The kernel writes back the length it filled.
    expect(getsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_INFO, 4096).length).toBe(
      getsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_INFO, 512).length,
    );
    expect(getsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_INFO, 8).length).toBe(8);
  });

  test('kernel refusals are system errors; bad arguments are Node argument errors', () => {
    expect(() => getsockopt(pair.client, constants.IPPROTO_TCP, 9999)).toThrow(
      expect.objectContaining({ code: 'ENOPROTOOPT', errno: -92, syscall: 'getsockopt', message: 'getsockopt ENOPROTOOPT' }),
    );
    expect(() => setsockopt(pair.client, constants.IPPROTO_TCP, constants.TCP_USER_TIMEOUT, -1)).toThrow(
      expect.objectContaining({ code: 'EINVAL', errno: -22, syscall: 'setsockopt', message: 'setsockopt EINVAL' }),
    );
    const bad: Array<[() => unknown, string]> = [
      [() => getsockopt(pair.client, -1, 1), 'ERR_OUT_OF_RANGE'],
      [() => getsockopt(pair.client, 6, 1.5), 'ERR_OUT_OF_RANGE'],
      [() => getsockopt(pair.client, '6' as unknown as number, 1), 'ERR_INVALID_ARG_TYPE'],
      [() => getsockopt(pair.client, 6, 11, 0), 'ERR_OUT_OF_RANGE'],
      [() => getsockopt(pair.client, 6, 11, 65537), 'ERR_OUT_OF_RANGE'],
      [() => setsockopt(pair.client, 6, 1, 2 ** 31), 'ERR_OUT_OF_RANGE'],
      [() => setsockopt(pair.client, 6, 1, 'yes' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      [() => setsockopt(pair.client, 6, 1, Buffer.alloc(65537)), 'ERR_OUT_OF_RANGE'],
      [() => setsockopt(pair.client, 6, 1, null as unknown as number), 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [fn, code] of bad) {
      let caught: unknown;
      try { fn(); } catch (e) { caught = e; }
      expect({ fn: fn.toString(), code: (caught as { code?: string })?.code }).toEqual({ fn: fn.toString(), code });
    }
  });
});

describe('socketCookie', () => {
  test('a non-zero bigint, stable, distinct per socket; the same for a duplicated fd in another process', async () => {
    const pair = await loopbackPair();
    try {
      const client = socketCookie(pair.client);
      expect(typeof client).toBe('bigint');
      expect(client).toBeGreaterThan(0n);
      expect(socketCookie(pair.client)).toBe(client);
      expect(socketCookie(fdOf(pair.client))).toBe(client);
      const cookies = [client, socketCookie(pair.peer), socketCookie(pair.server)];
      expect(new Set(cookies).size).toBe(3);
      // A child inherits a duplicate of the client's fd as its fd 3: same socket, same cookie.
      const child = spawnSync(process.execPath, ['-e', `
        const { socketCookie } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'kernel', 'sockopt.js'))});
        process.stdout.write(String(socketCookie(3)));`], { stdio: ['ignore', 'pipe', 'pipe', fdOf(pair.client)], encoding: 'utf8', timeout: 10_000 });
      expect(child.stderr).toBe('');
      expect(BigInt(child.stdout)).toBe(client);
    } finally {
      await pair.close();
    }
  });
});

describeNetns('a raw socket with protocol IPPROTO_TCP is not a TCP socket (root: CAP_NET_RAW)', () => {
  test('setOptions refuses it before touching SO_SNDBUF; getOptions refuses it too', () => {
    // python3 opens socket(AF_INET, SOCK_RAW, IPPROTO_TCP) and execs node with that fd.
    const dist = join(__dirname, '..', 'dist', 'kernel');
    const child = `
      const fd = Number(process.argv[1]);
      const { setOptions, getOptions } = require(${JSON.stringify(join(dist, 'options'))});
      const { getsockopt, constants: C } = require(${JSON.stringify(join(dist, 'sockopt'))});
      const shape = (f) => { try { f(); return null; } catch (e) { return { code: e.code, errno: e.errno, syscall: e.syscall, message: e.message }; } };
      const before = getsockopt(fd, C.SOL_SOCKET, C.SO_SNDBUF);
      const set = shape(() => setOptions(fd, { sendBuffer: 65536, noDelay: true }));
      const after = getsockopt(fd, C.SOL_SOCKET, C.SO_SNDBUF);
      console.log(JSON.stringify({ set, get: shape(() => getOptions(fd)), sndbufUnchanged: before === after, type: getsockopt(fd, C.SOL_SOCKET, C.SO_TYPE) }));
    `;
    const py = 'import os, socket, sys\n'
      + 's = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)\n'
      + 'os.set_inheritable(s.fileno(), True)\n'
      + 'os.execv(sys.argv[1], [sys.argv[1], "-e", sys.argv[2], str(s.fileno())])\n';
    const out = spawnSync('python3', ['-c', py, process.execPath, child], { encoding: 'utf8', timeout: 20_000 });
    expect(out.stderr).toBe('');
    const r = JSON.parse(out.stdout);
    expect(r.type).toBe(3); // SOCK_RAW
    const notTcp = (syscall: string) => ({ code: 'ENOTSUP', errno: -95, syscall, message: `${syscall} ENOTSUP (not a TCP socket)` });
    expect(r).toEqual({ set: notTcp('setsockopt'), get: notTcp('getsockopt'), sndbufUnchanged: true, type: 3 });
  });
});
