/**
 * The test suite's fault harness: two hosts joined by a cable, made of
 * network namespaces and nftables (see lib/cli/netns.ts). It builds on the
 * package's own NetnsPair (lib/cli/netns.ts), adding jest's skip/fail rule
 * and an IPC message channel to the child processes.
 *
 * Code under test runs in a child Node process inside namespace A (so sysctls
 * set there touch nothing else); the peer runs in namespace B.
 */
import { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ADDR_A, DEFAULT_ADDR_B, namespacesUnavailableReason, NetnsPair } from '../../lib/cli/netns';

export const ADDR_A = DEFAULT_ADDR_A;
export const ADDR_B = DEFAULT_ADDR_B;

/** Why network-namespace tests cannot run here, or null when they can. */
export const netnsUnavailableReason = namespacesUnavailableReason;

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
    console.warn(`SKIPPED "${name}": ${reason}`);
    describe.skip(name, fn);
  }
}

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
  /** Sends `msg` and waits for the first message of `type` that arrives after it. */
  async request(msg: unknown, type: string, timeoutMs: number): Promise<any> {
    const from = this.messages.length;
    this.send(msg);
    return this.waitFor((m) => m?.type === type && this.messages.indexOf(m) >= from, timeoutMs);
  }
  kill(): void { try { this.proc.kill('SIGKILL'); } catch { /* gone */ } }
}

/** A pair of namespaces joined by a veth cable: A = 10.213.7.1, B = 10.213.7.2. */
export class NetPair {
  private constructor(private readonly net: NetnsPair) {}

  static create(): NetPair {
    return new NetPair(new NetnsPair());
  }

  get a(): string { return this.net.a; }
  get b(): string { return this.net.b; }

  /** Runs a command inside a namespace and returns its stdout. */
  exec(ns: string, cmd: string, args: string[] = [], input?: string): string { return this.net.exec(ns, cmd, args, input); }
  /** Sets a per-namespace sysctl, e.g. ('net.ipv4.tcp_retries2', 4). */
  sysctl(ns: string, key: string, value: string | number): void { this.net.sysctl(ns, key, value); }
  /** Starts `node script args...` inside `ns` with an IPC channel. Killed by destroy(). */
  spawnNode(ns: string, script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Child {
    return new Child(this.net.spawnNode(ns, script, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, ...env } }));
  }
  /** B vanishes: drops everything in and out (no RST, no ICMP). */
  vanish(ns = this.b): void { this.net.vanish(ns); }
  /** Undoes vanish(). */
  heal(ns = this.b): void { this.net.heal(ns); }
  /** Random loss of `percent` % of packets entering and leaving `ns`. */
  loss(percent: number, ns = this.b): void { this.net.loss(percent, ns); }
  destroy(): void { this.net.destroy(); }
}

/** Absolute path of a fixture script in test/fixtures. */
export function fixture(name: string): string {
  const p = join(__dirname, '..', 'fixtures', name);
  if (!existsSync(p)) throw new Error(`no fixture ${p}`);
  return p;
}
