/**
 * Two throw-away network namespaces joined by a veth cable: the one
 * implementation behind `tcp-vitals demo`, the test suite's fault harness
 * (test/helpers/netns.ts) and the detection benchmark (bench/netns.js).
 *
 * Namespace names are unique per process and pair; the veth ends are created
 * directly inside their namespaces, so their names never meet. destroy()
 * deletes both namespaces (and kills what runs in them); a process-exit hook
 * deletes any pair left behind.
 */
import { ChildProcess, execFileSync, spawn, StdioOptions } from 'node:child_process';

/** Default addresses: A (the code under test) and B (the peer). */
export const DEFAULT_ADDR_A = '10.213.7.1';
export const DEFAULT_ADDR_B = '10.213.7.2';

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
}

/** Why namespaces cannot be made here (not root, ip or nft missing), or null. */
export function namespacesUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  for (const bin of ['ip', 'nft']) {
    try {
      run('sh', ['-c', `command -v ${bin}`]);
    } catch {
      return `'${bin}' is not installed (Debian/Ubuntu: apt-get install -y ${bin === 'ip' ? 'iproute2' : 'nftables'})`;
    }
  }
  return null;
}

const live = new Set<string>();
let exitHookInstalled = false;
let counter = 0;

function removeNamespace(ns: string): void {
  try {
    for (const pid of run('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
  } catch { /* no such namespace */ }
  try { run('ip', ['netns', 'del', ns]); } catch { /* already gone */ }
  live.delete(ns);
}

/** Options of {@link NetnsPair}. */
export interface NetnsPairOptions {
  /** Namespace name prefix (default 'tv'); names are `${prefix}-${pid}-${n}-a|b`. */
  prefix?: string;
  /** Address of namespace A (default 10.213.7.1/24). */
  addrA?: string;
  /** Address of namespace B (default 10.213.7.2/24). */
  addrB?: string;
}

/** Namespaces `a` (addrA) and `b` (addrB) joined by a veth pair. */
export class NetnsPair {
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;
  readonly a: string;
  readonly b: string;
  readonly addrA: string;
  readonly addrB: string;

  constructor(options: NetnsPairOptions = {}) {
    const n = counter++;
    options = Object.assign(Object.create(null) as NetnsPairOptions, options); // own properties only
    const prefix = options.prefix ?? 'tv';
    this.a = `${prefix}-${process.pid}-${n}-a`;
    this.b = `${prefix}-${process.pid}-${n}-b`;
    this.addrA = options.addrA ?? DEFAULT_ADDR_A;
    this.addrB = options.addrB ?? DEFAULT_ADDR_B;
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => { for (const ns of [...live]) removeNamespace(ns); });
    }
    try {
      for (const ns of [this.a, this.b]) {
        run('ip', ['netns', 'add', ns]);
        live.add(ns);
      }
      run('ip', ['link', 'add', 'tv-va', 'netns', this.a, 'type', 'veth', 'peer', 'name', 'tv-vb', 'netns', this.b]);
      run('ip', ['-n', this.a, 'addr', 'add', `${this.addrA}/24`, 'dev', 'tv-va']);
      run('ip', ['-n', this.b, 'addr', 'add', `${this.addrB}/24`, 'dev', 'tv-vb']);
      for (const [ns, dev] of [[this.a, 'tv-va'], [this.b, 'tv-vb']]) {
        run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      }
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  /** Runs a command inside `ns`; returns its stdout. */
  exec(ns: string, cmd: string, args: string[] = [], input?: string): string {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], input);
  }

  /** Sets a per-namespace sysctl, e.g. ('net.ipv4.tcp_retries2', 4). */
  sysctl(ns: string, key: string, value: string | number): void {
    this.exec(ns, 'sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  /** Starts `node script args...` in namespace `ns` with an IPC channel (stdio default: stderr piped). */
  spawnNode(ns: string, script: string, args: string[] = [], opts: { stdio?: StdioOptions; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, ...args], {
      stdio: opts.stdio ?? ['ignore', 'ignore', 'pipe', 'ipc'],
      env: opts.env ?? process.env,
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** The host behind `ns` vanishes: every packet in and out is dropped (no RST, no ICMP). */
  vanish(ns = this.b): void {
    this.exec(ns, 'nft', ['-f', '-'], [
      'table inet vanish {',
      '  chain in  { type filter hook input  priority 0; policy drop; }',
      '  chain out { type filter hook output priority 0; policy drop; }',
      '}',
      '',
    ].join('\n'));
  }

  /** Undoes {@link vanish}. */
  heal(ns = this.b): void {
    this.exec(ns, 'nft', ['delete', 'table', 'inet', 'vanish']);
  }

  /** Random loss of `percent` % of the packets entering and leaving `ns`. */
  loss(percent: number, ns = this.b): void {
    this.exec(ns, 'nft', ['-f', '-'], [
      'table inet lossy {',
      `  chain in  { type filter hook input  priority 0; policy accept; numgen random mod 100 < ${percent} drop; }`,
      `  chain out { type filter hook output priority 0; policy accept; numgen random mod 100 < ${percent} drop; }`,
      '}',
      '',
    ].join('\n'));
  }

  /** Kills the children and deletes both namespaces (idempotent, synchronous). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const child of this.children) {
      try { child.kill('SIGKILL'); } catch { /* gone */ }
    }
    removeNamespace(this.a);
    removeNamespace(this.b);
  }
}
