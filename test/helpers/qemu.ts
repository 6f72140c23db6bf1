/**
 * What a process sees under qemu-user 7.2 (arm64 on x64), shared by
 * test/qemu-answers.test.ts (the answers emulated by an LD_PRELOAD shim) and
 * test/arm64.test.ts (the real arm64 Node under qemu-aarch64): the child
 * script and what it must print.
 */

/** Child script: `node -e QEMU_CHILD <tcp-vitals path or name>` (the last argument). Prints JSON. */
export const QEMU_CHILD = `
  const net = require('node:net');
  const tv = require(process.argv[process.argv.length - 1]);
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
  // qemu-user has no SIOCOUTQNSD: a plain system error.
  expect(out.queues).toEqual({ error: { code: 'ENOSYS', errno: -38, syscall: 'ioctl', message: 'ioctl ENOSYS' } });
  expect(out.cookie).toEqual({ error: { code: 'EINVAL', errno: -22, syscall: 'getsockopt', message: 'getsockopt EINVAL (SO_COOKIE)' } });
  expect(out.tcpInfo).toEqual({ error: {
    code: 'ERR_TCP_VITALS_SHORT_TCP_INFO', syscall: 'getsockopt', length: 4,
    message: expect.stringMatching(/^getsockopt TCP_INFO returned 4 bytes; Linux returns at least 104/),
  } });
}
