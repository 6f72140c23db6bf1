/**
 * The answers qemu-user 7.2 gives an arm64 process (SO_COOKIE: EINVAL;
 * TCP_INFO: 4 bytes; SIOCOUTQNSD: ENOSYS), emulated on this host by an LD_PRELOAD shim
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
import { expectQemuAnswers, QEMU_CHILD } from './helpers/qemu';

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
