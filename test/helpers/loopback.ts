/**
 * Real loopback connections for the native-core tests: a listening server, a
 * connected client and the server's accepted end of the same connection.
 */
import { execFileSync } from 'node:child_process';
import * as net from 'node:net';
import { release } from 'node:os';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every 10 ms until it is true; fails after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** One loopback connection: `client` connected to `server`, whose accepted end is `peer`. */
export interface LoopbackPair {
  server: net.Server;
  client: net.Socket;
  peer: net.Socket;
  /** Destroys both ends and closes the server. */
  close(): Promise<void>;
}

/** Opens a server on 127.0.0.1 (ephemeral port) and one connection to it. */
export async function loopbackPair(options: {
  clientOptions?: net.TcpNetConnectOpts;
  serverOptions?: net.ServerOpts;
  /** Runs once the server listens, before the client connects (e.g. options the accepted socket inherits). */
  beforeConnect?: (server: net.Server) => void;
} = {}): Promise<LoopbackPair> {
  const server = net.createServer(options.serverOptions ?? {});
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  options.beforeConnect?.(server);
  const client = net.connect({ ...(options.clientOptions ?? {}), port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  const peer = await accepted;
  return {
    server,
    client,
    peer,
    async close() {
      client.destroy();
      peer.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Runs `ss -tnioH` for exactly one established connection (by both ports) and
 * returns the info line (the second line of ss's output), or throws.
 */
export function ssInfo(localPort: number, remotePort: number): string {
  // -o: iproute2 6.1 prints the 'ts sack ecn' option flags only with it.
  const out = execFileSync('ss', ['-tnioH', 'state', 'established', `( sport = :${localPort} and dport = :${remotePort} )`], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 2) throw new Error(`expected one connection from ss, got:\n${out}`);
  return lines[1];
}

/** Whether a command is on PATH. */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** "major.minor" of the running kernel as a number pair. */
export function kernelVersion(): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release());
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** True when the running kernel is at least major.minor. */
export function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = kernelVersion();
  return a > major || (a === major && b >= minor);
}

/** A listener in a child process that does not accept for `blockMs` (see fixtures/blocked-listener.js). */
export interface BlockedListener {
  port: number;
  /** Ends the child (SIGTERM to this one child process). */
  stop(): Promise<void>;
}

export async function blockedListener(backlog: number, blockMs: number): Promise<BlockedListener> {
  const { spawn } = await import('node:child_process');
  const { join } = await import('node:path');
  const child = spawn(process.execPath, [join(__dirname, '..', 'fixtures', 'blocked-listener.js'), String(backlog), String(blockMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('blocked-listener did not start')), 10_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); resolve(JSON.parse(out.slice(0, nl)).port); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`blocked-listener exited with ${code}`)); });
  });
  return {
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM'); // no handler: ends it even while it blocks in Atomics.wait
      await exited;
    },
  };
}
