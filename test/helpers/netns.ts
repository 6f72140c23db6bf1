/**
 * Two hosts joined by a cable, made of network namespaces (see
 * ../shared/fault-injection.md). Names are unique per process and pair; every
 * namespace is deleted by destroy(), and on process exit as a last resort.
 *
 * Code under test runs in a child Node process inside namespace A (so sysctls
 * set there touch nothing else); the peer runs in namespace B.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ADDR_A = '10.213.7.1';
export const ADDR_B = '10.213.7.2';

let counter = 0;
const live = new Set<string>();

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
}

/** Why network-namespace tests cannot run here, or null when they can. */
export function netnsUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'not root (CAP_NET_ADMIN needed for ip netns / nft)';
  for (const bin of ['ip', 'nft']) {
    try {
      sh('sh', ['-c', `command -v ${bin}`]);
    } catch {
      return `${bin} is not installed (apt-get install -y iproute2 nftables)`;
    }
  }
  return null;
}

/**
 * describe() for tests that need namespaces. Without the prerequisites it
 * skips with a printed reason, except under CI=true where it fails.
 */
export function describeNetns(name: string, fn: () => void): void {
  const reason = netnsUnavailableReason();
  if (!reason) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      test('network-namespace prerequisites', () => {
        throw new Error(`CI=true but fault tests cannot run: ${reason}`);
      });
    });
  } else {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED "${name}": ${reason}`);
    describe.skip(name, fn);
  }
}

function cleanup(ns: string): void {
  try {
    for (const pid of sh('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
  } catch { /* namespace gone */ }
  try { sh('ip', ['netns', 'del', ns]); } catch { /* already gone */ }
  live.delete(ns);
}

process.on('exit', () => { for (const ns of [...live]) cleanup(ns); });

/** A message channel to a child Node process (IPC, JSON messages). */
export class Child {
  readonly messages: any[] = [];
  private waiters: Array<() => void> = [];
  stderr = '';
  exitCode: number | null = null;
  constructor(readonly proc: ChildProcess) {
    proc.on('message', (m) => { this.messages.push(m); this.wake(); });
    proc.stderr?.on('data', (d) => { this.stderr += d; });
    proc.stdout?.on('data', (d) => { this.stderr += d; });
    proc.on('exit', (code) => { this.exitCode = code ?? -1; this.wake(); });
  }
  private wake(): void { const w = this.waiters; this.waiters = []; w.forEach((f) => f()); }
  send(msg: unknown): void { this.proc.send?.(msg as object); }
  /** Waits for the first message matching `pred` (bounded by timeoutMs). */
  async waitFor(pred: (m: any) => boolean, timeoutMs: number): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(pred);
      if (found) return found;
      if (this.exitCode !== null) throw new Error(`child exited (${this.exitCode}) before the awaited message; output:\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for a message; got ${JSON.stringify(this.messages)}; output:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }
  kill(): void { try { this.proc.kill('SIGKILL'); } catch { /* gone */ } }
}

/** A pair of namespaces joined by a veth cable: A = 10.213.7.1, B = 10.213.7.2. */
export class NetPair {
  private children: Child[] = [];
  private constructor(readonly a: string, readonly b: string) {}

  static create(): NetPair {
    const id = `${process.pid % 100000}-${counter++}`;
    const a = `tv-${id}-a`, b = `tv-${id}-b`;
    const va = `tv${process.pid % 100000}x${counter}a`, vb = `tv${process.pid % 100000}x${counter}b`;
    const pair = new NetPair(a, b);
    try {
      for (const ns of [a, b]) { sh('ip', ['netns', 'add', ns]); live.add(ns); }
      sh('ip', ['link', 'add', va, 'netns', a, 'type', 'veth', 'peer', 'name', vb, 'netns', b]);
      sh('ip', ['-n', a, 'addr', 'add', `${ADDR_A}/24`, 'dev', va]);
      sh('ip', ['-n', b, 'addr', 'add', `${ADDR_B}/24`, 'dev', vb]);
      for (const [ns, dev] of [[a, va], [b, vb]]) {
        sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      }
    } catch (e) {
      pair.destroy();
      throw e;
    }
    return pair;
  }

  /** Runs a command inside a namespace and returns its stdout. */
  exec(ns: string, cmd: string, args: string[] = [], input?: string): string {
    return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
  }

  /** Sets a per-namespace sysctl, e.g. ('net.ipv4.tcp_retries2', 4). */
  sysctl(ns: string, key: string, value: string | number): void {
    this.exec(ns, 'sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  /** Starts `node script args...` inside `ns` with an IPC channel. Killed by destroy(). */
  spawnNode(ns: string, script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Child {
    const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ...env },
    });
    const child = new Child(proc);
    this.children.push(child);
    return child;
  }

  /** B vanishes: drops everything in and out (no RST, no ICMP). */
  vanish(ns = this.b): void {
    this.exec(ns, 'nft', ['-f', '-'], [
      'table inet vanish {',
      '  chain in  { type filter hook input  priority 0; policy drop; }',
      '  chain out { type filter hook output priority 0; policy drop; }',
      '}',
      '',
    ].join('\n'));
  }

  /** Undoes vanish(). */
  heal(ns = this.b): void {
    this.exec(ns, 'nft', ['delete', 'table', 'inet', 'vanish']);
  }

  /** Random loss of `percent` % of packets entering and leaving `ns`. */
  loss(percent: number, ns = this.b): void {
    this.exec(ns, 'nft', ['-f', '-'], [
      'table inet lossy {',
      `  chain in  { type filter hook input  priority 0; policy accept; numgen random mod 100 < ${percent} drop; }`,
      `  chain out { type filter hook output priority 0; policy accept; numgen random mod 100 < ${percent} drop; }`,
      '}',
      '',
    ].join('\n'));
  }

  destroy(): void {
    for (const c of this.children) c.kill();
    cleanup(this.a);
    cleanup(this.b);
  }
}

/** Absolute path of a fixture script in test/fixtures. */
export function fixture(name: string): string {
  const p = join(__dirname, '..', 'fixtures', name);
  if (!existsSync(p)) throw new Error(`no fixture ${p}`);
  return p;
}
