/**
 * Two throw-away network namespaces joined by a veth cable, for `tcp-vitals
 * demo`. Deleted by destroy(), which the demo also calls on SIGINT/SIGTERM
 * and process exit.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 });
}

/** Why namespaces cannot be made here (not root, ip or nft missing), or null. */
export function namespacesUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces (try: sudo npx tcp-vitals demo)';
  for (const bin of ['ip', 'nft']) {
    try {
      run('sh', ['-c', `command -v ${bin}`]);
    } catch {
      return `'${bin}' is not installed (Debian/Ubuntu: apt-get install -y ${bin === 'ip' ? 'iproute2' : 'nftables'})`;
    }
  }
  return null;
}

/** Namespaces `a` (addrA) and `b` (addrB) joined by a veth pair. */
export class DemoNetwork {
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;
  readonly a: string;
  readonly b: string;

  constructor(readonly addrA: string, readonly addrB: string) {
    const id = `${process.pid}`;
    this.a = `tvdemo-${id}-a`;
    this.b = `tvdemo-${id}-b`;
    const va = `tvd${id}a`.slice(0, 15), vb = `tvd${id}b`.slice(0, 15);
    try {
      run('ip', ['netns', 'add', this.a]);
      run('ip', ['netns', 'add', this.b]);
      run('ip', ['link', 'add', va, 'netns', this.a, 'type', 'veth', 'peer', 'name', vb, 'netns', this.b]);
      run('ip', ['-n', this.a, 'addr', 'add', `${addrA}/24`, 'dev', va]);
      run('ip', ['-n', this.b, 'addr', 'add', `${addrB}/24`, 'dev', vb]);
      for (const [ns, dev] of [[this.a, va], [this.b, vb]]) {
        run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      }
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  /** Starts `node script args...` in namespace `ns` with an IPC channel. */
  spawnNode(ns: string, script: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, ...args], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** The host behind `ns` vanishes: every packet in and out is dropped (no RST, no ICMP). */
  vanish(ns: string): void {
    run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], [
      'table inet vanish {',
      '  chain in  { type filter hook input  priority 0; policy drop; }',
      '  chain out { type filter hook output priority 0; policy drop; }',
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
    for (const ns of [this.a, this.b]) {
      try {
        for (const pid of run('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
          try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
        }
      } catch { /* no such namespace */ }
      try { run('ip', ['netns', 'del', ns]); } catch { /* already gone */ }
    }
  }
}
