/**
 * Every bad target, run in a child process (fixtures/bad-input-child.js) that
 * must exit normally: each gives its clear, Node-shaped error, never a crash,
 * never a reading of some other object.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockedListener, blockedListener } from './helpers/loopback';

interface CaseResult {
  target: string;
  fn: string;
  ok?: unknown;
  error?: { type: string; code: string; errno?: number; syscall?: string; message: string };
}

type Expect = { ok: unknown } | { type: string; code: string; errno?: number; syscall?: string; message?: RegExp };

const sys = (code: string, errno: number, syscall: string): Expect => ({
  type: 'Error', code, errno, syscall, message: new RegExp(`^${syscall} ${code}( \\(.+\\))?$`),
});
const argType: Expect = { type: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /^The "target" argument must be/ };
const range: Expect = { type: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /^The value of "target" is out of range/ };
const closed: Expect = { type: 'Error', code: 'ERR_SOCKET_CLOSED' };
const notConnected: Expect = { type: 'Error', code: 'ERR_SOCKET_NOT_CONNECTED' };
const notRunning: Expect = { type: 'Error', code: 'ERR_SERVER_NOT_RUNNING' };
const all = (e: Expect) => ({ tcpInfo: e, queues: e, getsockopt: e, setsockopt: e, socketCookie: e, getOptions: e, setOptions: e });
const ENOTSUP = 95; // Linux EOPNOTSUPP == ENOTSUP; Node names errno 95 'ENOTSUP'
const notTcp = {
  tcpInfo: sys('ENOTSUP', -ENOTSUP, 'getsockopt'),
  queues: sys('ENOTSUP', -ENOTSUP, 'ioctl'),
  getOptions: sys('ENOTSUP', -ENOTSUP, 'getsockopt'),
  setOptions: sys('ENOTSUP', -ENOTSUP, 'setsockopt'),
};
const badFd = (code: string, errno: number) => ({
  tcpInfo: sys(code, errno, 'getsockopt'),
  queues: sys(code, errno, 'ioctl'),
  getsockopt: sys(code, errno, 'getsockopt'),
  setsockopt: sys(code, errno, 'setsockopt'),
  socketCookie: sys(code, errno, 'getsockopt'),
  getOptions: sys(code, errno, 'getsockopt'),
  setOptions: sys(code, errno, 'getsockopt'),
});
const cookie = { ok: expect.stringMatching(/^[1-9]\d*$/) };

const EXPECTED: Record<string, Record<string, Expect>> = {
  'destroyed socket': all(closed),
  'new net.Socket()': all(notConnected),
  'connecting socket': {
    tcpInfo: { ok: { state: 'SYN_SENT', length: expect.any(Number) } },
    queues: { ok: { sendQueue: 0, unsent: 0, unacknowledged: 0, receiveQueue: 0 } },
    getsockopt: { ok: 1 }, // SOCK_STREAM
    setsockopt: { ok: null },
    socketCookie: cookie,
    getOptions: { ok: expect.any(Number) },
    setOptions: { ok: null },
  },
  'unix socket': { ...notTcp, getsockopt: { ok: 1 }, setsockopt: sys('ENOTSUP', -ENOTSUP, 'setsockopt'), socketCookie: cookie },
  'unix server': { tcpInfo: notTcp.tcpInfo, queues: notTcp.queues },
  'udp fd': { ...notTcp, getsockopt: { ok: 2 }, setsockopt: sys('ENOPROTOOPT', -92, 'setsockopt'), socketCookie: cookie },
  'regular file fd': badFd('ENOTSOCK', -88),
  'pipe fd (stdin)': { tcpInfo: sys('ENOTSOCK', -88, 'getsockopt'), queues: sys('ENOTSOCK', -88, 'ioctl'), getsockopt: sys('ENOTSOCK', -88, 'getsockopt') },
  'closed fd': badFd('EBADF', -9),
  'fd 2147483647': { tcpInfo: sys('EBADF', -9, 'getsockopt'), queues: sys('EBADF', -9, 'ioctl'), socketCookie: sys('EBADF', -9, 'getsockopt') },
  'listening server': { tcpInfo: { ok: { state: 'LISTEN', length: expect.any(Number) } }, queues: sys('EINVAL', -22, 'ioctl') },
  'server not listening': all(notRunning),
};
for (const name of ['negative fd', 'non-integer fd', 'NaN', 'Infinity', 'fd 2^31']) {
  EXPECTED[name] = { tcpInfo: range, queues: range, socketCookie: range, getsockopt: range };
}
for (const name of ['string', 'null', 'undefined', 'plain object', 'array', 'bigint']) {
  EXPECTED[name] = { tcpInfo: argType, queues: argType, socketCookie: argType, getsockopt: argType };
}

describe('bad targets, in a child process that must exit normally', () => {
  let listener: BlockedListener;
  const fillers: net.Socket[] = [];
  let scratch: string;
  let results: CaseResult[] = [];
  let exit: { code: number | null; signal: string | null; stderr: string };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'tv-errors-'));
    // A listener whose accept queue (backlog 1 = 2 entries) we fill, so the
    // child's connect stays in SYN_SENT: a connecting socket with a real fd.
    listener = await blockedListener(1, 20_000);
    for (let i = 0; i < 2; i++) {
      const s = net.connect(listener.port, '127.0.0.1');
      s.on('error', () => {});
      fillers.push(s);
      await new Promise((resolve) => s.once('connect', resolve));
    }
    // stdin of the child is a real pipe (sh's pipeline), not Node's socketpair.
    const fixturePath = join(__dirname, 'fixtures', 'bad-input-child.js');
    const cmd = `: | exec "$0" "$1" "$2" "$3"`;
    exit = await new Promise((resolve) => {
      execFile('sh', ['-c', cmd, process.execPath, fixturePath, String(listener.port), scratch], { timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        const e = err as (Error & { code?: number; signal?: string }) | null;
        if (!e) results = (JSON.parse(stdout) as { cases: CaseResult[] }).cases;
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, signal: e?.signal ?? null, stderr });
      });
    });
  });
  afterAll(async () => {
    fillers.forEach((s) => s.destroy());
    await listener.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the child exits with code 0 and no signal, having run every case', () => {
    expect(exit).toEqual({ code: 0, signal: null, stderr: '' });
    const expectedCount = Object.values(EXPECTED).reduce((n, fns) => n + Object.keys(fns).length, 0);
    expect(results.length).toBe(expectedCount);
    expect(results.length).toBeGreaterThanOrEqual(90);
  });

  test.each(Object.keys(EXPECTED))('%s', (target) => {
    const got = results.filter((r) => r.target === target);
    expect(got.map((r) => r.fn).sort()).toEqual(Object.keys(EXPECTED[target]).sort());
    for (const r of got) {
      const want = EXPECTED[target][r.fn];
      if ('ok' in want) {
        expect({ fn: r.fn, result: r.ok, error: r.error }).toEqual({ fn: r.fn, result: want.ok, error: undefined });
      } else {
        expect({ fn: r.fn, error: r.error }).toEqual({
          fn: r.fn,
          error: {
            type: want.type,
            code: want.code,
            ...(want.errno !== undefined ? { errno: want.errno, syscall: want.syscall } : {}),
            message: want.message ? expect.stringMatching(want.message) : expect.any(String),
          },
        });
      }
    }
  });
});
