/**
 * The one place a test runs anything as another user (nobody, postgres).
 * test/architecture.test.ts fails if any other test file or fixture names
 * setpriv, runuser, su or sudo, or spawns with a uid.
 *
 * Another user may not be able to read this checkout (it may live in /root,
 * or in a `umask 077` / `mktemp -d` folder), so the checkout's own files are
 * never run as another user: {@link asUser} refuses any argument inside the
 * checkout, and {@link runCliAs} runs the CLI from {@link worldReadableCopy}.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import type { CliRun } from './inspect-cli';

const ROOT = resolve(__dirname, '..', '..');

/**
 * A copy of the built package (dist/, package.json, prebuilds/, node-gyp-build)
 * in a fresh folder under the system's temp dir, readable by everyone. The
 * caller deletes it (rmSync(dir, { recursive: true, force: true })).
 */
export function worldReadableCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tv-as-user-'));
  for (const part of ['dist', 'package.json', 'prebuilds', join('node_modules', 'node-gyp-build')]) {
    if (existsSync(join(ROOT, part))) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  }
  execFileSync('chmod', ['-R', 'a+rX', dir]); // mkdtemp makes it 0700; a umask 077 checkout has 0600 files
  return dir;
}

export interface AsUserOptions {
  /** Group (name or number); default: the group named like the user, or 65534 for nobody. */
  group?: string;
  /** Also take the user's supplementary groups (default: none). */
  initGroups?: boolean;
}

/**
 * `argv` run as `user` (name or number), with setpriv (which execs: kill()
 * reaches the program itself). Throws for an argument inside this checkout.
 */
export function asUser(user: string, argv: string[], opts: AsUserOptions = {}): string[] {
  for (const a of argv) {
    if (a === ROOT || a.includes(ROOT + sep) || (a.startsWith('.') && resolve(a).startsWith(ROOT))) {
      throw new Error(`asUser(${user}): '${a}' is inside the checkout, which ${user} may not be able to read; use worldReadableCopy()`);
    }
  }
  const group = opts.group ?? (user === 'nobody' || user === '65534' ? '65534' : user); // nobody's group: nogroup or nobody
  return ['setpriv', `--reuid=${user}`, `--regid=${group}`, opts.initGroups ? '--init-groups' : '--clear-groups', ...argv];
}

/** Why {@link asUser} cannot run here (util-linux's setpriv missing), or null. */
export function asUserUnavailableReason(): string | null {
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'setpriv (util-linux) not available';
  }
}

/** Runs the built CLI as `user` from a world-readable copy (made and deleted here), bounded in time. */
export async function runCliAs(user: string, args: string[], timeoutMs = 20_000): Promise<CliRun> {
  const copy = worldReadableCopy();
  try {
    const [cmd, ...rest] = asUser(user, [process.execPath, join(copy, 'dist', 'cli', 'index.js'), ...args]);
    const child = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'], cwd: copy });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    return await new Promise<CliRun>((done) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
    });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
