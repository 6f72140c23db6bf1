/**
 * Real servers for integration tests: Debian's redis-server and PostgreSQL,
 * started by the test itself inside a namespace (normally B of a NetPair,
 * bound to ADDR_B), never the machine's own instances. Each start returns a
 * handle whose stop() kills the server and removes its temporary files; the
 * NetPair's destroy() also kills anything left in the namespace.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Child } from './netns';
import { asUser, asUserUnavailableReason } from './as-user';

/** A server process started for a test. */
export interface TestServer {
  host: string;
  port: number;
  /** Everything the server printed (for failure messages). */
  output(): string;
  /** Kills the server and removes its temporary files. Idempotent. */
  stop(): void;
}

/** Why redis-server cannot be started here, or null. */
export function redisUnavailableReason(): string | null {
  return commandPath('redis-server') ? null : 'redis-server is not installed (apt-get install -y redis-server)';
}

/** The newest PostgreSQL bin directory (/usr/lib/postgresql/<version>/bin), or null. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((x, y) => Number(y) - Number(x));
  return versions.length ? join(root, versions[0], 'bin') : null;
}

/** Why PostgreSQL cannot be started here, or null. */
export function postgresUnavailableReason(): string | null {
  if (!postgresBinDir()) return 'PostgreSQL is not installed (apt-get install -y postgresql)';
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    return 'no "postgres" user (installed by the postgresql package)';
  }
  return asUserUnavailableReason();
}

function commandPath(bin: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function spawnIn(ns: string, cmd: string, args: string[]): { proc: ChildProcess; output: () => string } {
  const proc = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d) => { out += d; });
  proc.stderr?.on('data', (d) => { out += d; });
  return { proc, output: () => out };
}

async function waitForOutput(proc: ChildProcess, output: () => string, pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(output())) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`${what} exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${output()}`);
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function kill(proc: ChildProcess): void {
  if (proc.exitCode === null && proc.signalCode === null) {
    try { proc.kill('SIGKILL'); } catch { /* gone */ }
  }
}

/**
 * The TestServer of a process already spawned (proc, output) that keeps its
 * state in the temporary directory dir: resolves once its output matches
 * ready (bounded by timeoutMs); stop() kills it and deletes dir, and a server
 * that never gets ready is stopped before the error is thrown.
 */
async function serveFromTempDir(host: string, port: number, dir: string, proc: ChildProcess, output: () => string,
  ready: RegExp, timeoutMs: number, what: string): Promise<TestServer> {
  let stopped = false;
  const server: TestServer = {
    host, port, output,
    stop() {
      if (stopped) return;
      stopped = true;
      kill(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForOutput(proc, output, ready, timeoutMs, what);
  } catch (e) {
    server.stop();
    throw e;
  }
  return server;
}

/**
 * Starts `redis-server` in namespace `ns`, bound to `host:port`, with
 * persistence off (--save '' --appendonly no). Resolves once it accepts
 * connections.
 */
export async function startRedis(ns: string, host: string, port = 6379): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tv-redis-'));
  const { proc, output } = spawnIn(ns, 'redis-server', [
    '--bind', host, '--port', String(port), '--save', '', '--appendonly', 'no',
    '--protected-mode', 'no', '--dir', dir, '--daemonize', 'no',
  ]);
  return serveFromTempDir(host, port, dir, proc, output, /Ready to accept connections/, 15_000, 'redis-server');
}

/**
 * Initialises a throw-away PostgreSQL cluster in a temporary directory (as
 * user `postgres`, trust auth for `trustedSubnet`) and starts it in namespace
 * `ns` listening on `host:port`. Database and user: `postgres`.
 */
export async function startPostgres(ns: string, host: string, trustedSubnet: string, port = 5432): Promise<TestServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'tv-pg-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  let proc: ChildProcess | undefined;
  let output = (): string => '';
  let stopped = false;
  const server: TestServer = {
    host, port, output: () => output(),
    stop() {
      if (stopped) return;
      stopped = true;
      if (proc) kill(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const [initdb, ...initdbArgs] = asUser('postgres', [join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C'], { initGroups: true });
    execFileSync(initdb, initdbArgs, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, cwd: dir });
    appendFileSync(join(data, 'pg_hba.conf'), `host all all ${trustedSubnet} trust\n`);
    // setpriv execs (runuser would fork and keep postgres out of reach of kill()).
    const [setpriv, ...postgres] = asUser('postgres', [join(bin, 'postgres'),
      '-D', data, '-p', String(port), '-c', `listen_addresses=${host}`, '-c', `unix_socket_directories=${dir}`,
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'logging_collector=off'], { initGroups: true });
    ({ proc, output } = spawnIn(ns, setpriv, postgres));
    await waitForOutput(proc, output, /ready to accept connections/, 30_000, 'postgres');
  } catch (e) {
    server.stop();
    throw e;
  }
  return server;
}

/**
 * Waits until `boundMs` after `startAt`, then asserts that the plain client
 * (a test/fixtures/*-client.js child in 'plain' mode) is still stuck: its
 * request unsettled, no error, the connection ESTABLISHED and retransmitting
 * with bytes unacknowledged. Returns the child's check message.
 */
export async function expectStillPending(plain: Child, startAt: number, boundMs: number): Promise<any> {
  await new Promise((r) => setTimeout(r, Math.max(0, startAt + boundMs - Date.now())));
  plain.send({ cmd: 'check' });
  const check = await plain.waitFor((m) => m.type === 'pending', 5000);
  expect(check.settled).toBe(false);
  expect(plain.messages.find((m) => m.type === 'result')).toBeUndefined();
  expect(check.errors).toEqual([]);
  expect(check.state).toBe('ESTABLISHED');
  expect(check.retransmits).toBeGreaterThan(0);
  expect(check.sendQueue).toBeGreaterThan(0);
  return check;
}

/** mariadbd's path, or null. */
function mariadbPath(): string | null {
  return commandPath('mariadbd') ?? (existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : null);
}

/** Why MariaDB cannot be started here, or null. */
export function mariadbUnavailableReason(): string | null {
  return mariadbPath() ? null : 'mariadbd is not installed (apt-get install -y mariadb-server)';
}

/**
 * Starts a throw-away MariaDB server (mariadbd on an empty temporary datadir,
 * no option files read, binary log off) in namespace `ns`, listening on
 * `host:port`. It runs with --skip-grant-tables: any user name (e.g. `root`)
 * connects without a password. Resolves once it accepts connections (bounded
 * by 30 s).
 */
export async function startMariadb(ns: string, host: string, port = 3306): Promise<TestServer> {
  const bin = mariadbPath();
  if (!bin) throw new Error('mariadbd is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'tv-mariadb-'));
  const { proc, output } = spawnIn(ns, bin, [
    '--no-defaults', '--user=root', `--datadir=${dir}`, '--skip-grant-tables', `--bind-address=${host}`, `--port=${port}`,
    `--socket=${join(dir, 'mysqld.sock')}`, `--pid-file=${join(dir, 'mysqld.pid')}`, '--skip-log-bin', '--skip-name-resolve',
    '--innodb-buffer-pool-size=16M', '--innodb-log-file-size=4M',
  ]);
  return serveFromTempDir(host, port, dir, proc, output, /ready for connections/, 30_000, 'mariadbd');
}
