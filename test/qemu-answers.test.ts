/**
 * The answers qemu-user 7.2 gives an arm64 process (SO_COOKIE: EINVAL;
 * TCP_INFO: 4 bytes), emulated on this host by an LD_PRELOAD shim
 * (fixtures/qemu-user-answers.c) in a child process, so the policy is tested
 * on every run (test/arm64.test.ts runs the real arm64 Node under qemu):
 * - a kernel that cannot give a cookie (EINVAL, ENOPROTOOPT) means identity
 *   checks are unavailable for that socket: options are still set and read;
 *   socketCookie() itself still throws the system error;
 * - a tcp_info shorter than any Linux returns is a coded error, not a crash
 *   or a half-decoded object.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../lib/kernel/binding';

export const QEMU_CHILD = `
  const net = require('node:net');
  const tv = require(process.argv[1]);
  const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
    const c = net.connect(server.address().port, '127.0.0.1', () => {
      const out = {};
      const attempt = (k, f) => {
        try { out[k] = f(); } catch (e) { out[k] = { error: { code: e.code, errno: e.errno, syscall: e.syscall, message: e.message, length: e.length } }; }
      };
      attempt('set', () => { tv.setOptions(c, { userTimeout: 12000, keepAlive: true, keepAliveIdle: 7000, keepAliveInterval: 3000, keepAliveCount: 4 }); return 'ok'; });
      attempt('get', () => tv.getOptions(c));
      attempt('queues', () => tv.queues(c));
      attempt('raw', () => tv.getsockopt(c, tv.constants.IPPROTO_TCP, tv.constants.TCP_USER_TIMEOUT, 4).readInt32LE(0));
      attempt('cookie', () => String(tv.socketCookie(c)));
      attempt('tcpInfo', () => tv.tcpInfo(c));
      out.arch = process.arch;
      process.stdout.write(JSON.stringify(out));
      c.destroy(); server.close();
    });
  });
`;

/** What the child must print under qemu-user's answers (arch aside). */
export function expectQemuAnswers(out: Record<string, any>): void {
  expect(out.set).toBe('ok');
  expect(out.get).toMatchObject({ userTimeout: 12000, keepAlive: true, keepAliveIdle: 7000, keepAliveInterval: 3000, keepAliveCount: 4 });
  expect(out.raw).toBe(12000);
  expect(out.queues).toEqual({ sendQueue: 0, unsent: 0, unacknowledged: 0, receiveQueue: 0 });
  expect(out.cookie).toEqual({ error: { code: 'EINVAL', errno: -22, syscall: 'getsockopt', message: 'getsockopt EINVAL (SO_COOKIE)' } });
  expect(out.tcpInfo).toEqual({ error: {
    code: 'ERR_TCP_VITALS_SHORT_TCP_INFO', syscall: 'getsockopt', length: 4,
    message: expect.stringMatching(/^getsockopt TCP_INFO returned 4 bytes; Linux returns at least 104/),
  } });
}

describe('qemu-user\'s answers (LD_PRELOAD shim on this host)', () => {
  let dir: string;
  let shim: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tv-qemu-answers-'));
    shim = join(dir, 'qemu-user-answers.so');
    execFileSync('gcc', ['-shared', '-fPIC', '-O1', `-DSO_COOKIE_OPT=${native.constants.SO_COOKIE}`, `-DTCP_INFO_OPT=${native.constants.TCP_INFO}`,
      '-o', shim, join(__dirname, 'fixtures', 'qemu-user-answers.c'), '-ldl'], { stdio: 'pipe' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('options are set and read without a cookie; a 4-byte tcp_info is a coded error', () => {
    const r = spawnSync(process.execPath, ['-e', QEMU_CHILD, join(__dirname, '..', 'dist')], {
      encoding: 'utf8', timeout: 30_000, env: { ...process.env, LD_PRELOAD: shim },
    });
    expect(r.stderr).toBe('');
    expectQemuAnswers(JSON.parse(r.stdout));
  });
});
