/** Runs the built CLI (dist/cli/index.js) as a real process, bounded in time. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'index.js');

export interface CliRun { code: number | null; stdout: string; stderr: string }

/** `prefix` runs the CLI under another command; as another user, use helpers/as-user.ts (runCliAs) instead. */
/** With `raw`, `prefix` is the whole command line (e.g. `script -qec '<cli>' /dev/null` for a terminal). */
export function runCli(args: string[], opts: { prefix?: string[]; timeoutMs?: number; raw?: boolean } = {}): Promise<CliRun> {
  const [cmd, ...rest] = opts.raw ? [...(opts.prefix ?? []), ...args] : [...(opts.prefix ?? []), process.execPath, CLI, ...args];
  const child = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}
