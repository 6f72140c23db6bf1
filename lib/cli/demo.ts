/**
 * `tcp-vitals demo` (root): two network namespaces, a peer that vanishes
 * without FIN or RST, and two clients side by side: plain Node
 * (setKeepAlive(true, 1000)) and failFast. About 15 seconds.
 */
import type { ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { durationOption, EXIT_FAILURE, parse, UsageError } from './args';
import { formatBytes, formatDuration, formatShortDuration } from './format';
import { Screen } from './screen';
import { NetnsPair, namespacesUnavailableReason } from './netns';

const HELP = `Usage: tcp-vitals demo [options]        (needs root)

Creates two network namespaces joined by a virtual cable, starts a server in
one and two clients in the other, both writing a line every 100 ms. Then the
server's host vanishes (every packet dropped: no FIN, no RST, like a pulled
cable or a deleted pod). Watch plain Node keep "succeeding" while failFast
reports the dead peer. The namespaces are deleted on exit, on Ctrl-C, SIGTERM
and SIGHUP.

Options:
  --timeout DURATION   failFast's timeout (default 5s; whole seconds, 2s..30s)
  --vanish-after DURATION  healthy traffic before the peer vanishes (default 2s)
  --duration DURATION  total run time (default 15s; 5s..120s)
  -h, --help           this help

Exit codes: 0 the story played out (failFast caught the dead peer),
1 it did not, 2 bad arguments or not root / ip or nft missing.
`;

const ADDR_A = '10.213.8.1';
const ADDR_B = '10.213.8.2';
const PORT = 7070;

interface ClientState {
  label: string;
  setup: string;
  connected: boolean;
  writesDone: number;
  unacknowledged: number;
  retransmits: number;
  rtoMs: number;
  dead?: { atMs: number; code?: string; reason?: string; unacknowledgedBytes?: number };
}

/** Runs `tcp-vitals demo`; resolves to the exit code. */
export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    timeout: { type: 'string' },
    'vanish-after': { type: 'string' },
    duration: { type: 'string' },
  }, 0);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const timeout = durationOption('timeout', values.timeout, 2000, 30_000) ?? 5000;
  if (timeout % 1000 !== 0) throw new UsageError(`--timeout must be whole seconds (failFast's rule), got '${values.timeout}'`);
  const vanishAfter = durationOption('vanish-after', values['vanish-after'], 500, 30_000) ?? 2000;
  const duration = durationOption('duration', values.duration, 5000, 120_000) ?? 15_000;
  if (vanishAfter >= duration) throw new UsageError('--vanish-after must be shorter than --duration');
  const missing = namespacesUnavailableReason();
  if (missing) throw new UsageError(process.getuid?.() !== 0 ? `${missing} (try: sudo npx tcp-vitals demo)` : missing);

  // The handlers go in before anything exists: a signal that arrives while
  // the namespaces are being created (synchronous `ip` calls) is handled as
  // soon as that returns, and SIGHUP (a closed terminal) cleans up too.
  let net: NetnsPair | null = null;
  const cleanup = (): void => { net?.destroy(); };
  const onSignal = (signal: NodeJS.Signals): void => {
    cleanup();
    try {
      process.stderr.write(`\ntcp-vitals demo: interrupted (${signal}); namespaces deleted\n`);
    } catch { /* the terminal may be gone (SIGHUP) */ }
    process.exit(128 + (osConstants.signals[signal] ?? 0));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  process.once('exit', cleanup);
  for (const sig of signals) process.once(sig, onSignal);
  try {
    net = new NetnsPair({ prefix: 'tvdemo', addrA: ADDR_A, addrB: ADDR_B });
    return await play(net, timeout, vanishAfter, duration);
  } finally {
    cleanup();
    process.removeListener('exit', cleanup);
    for (const sig of signals) process.removeListener(sig, onSignal);
  }
}

function waitForMessage(child: ChildProcess, type: string, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => done(new Error(`${what} did not start within ${timeoutMs} ms ${stderr}`)), timeoutMs);
    const onMessage = (m: { type?: string }): void => { if (m?.type === type) done(); };
    const onExit = (code: number | null): void => done(new Error(`${what} exited (${code}): ${stderr.trim()}`));
    function done(err?: Error): void {
      clearTimeout(timer);
      child.removeListener('message', onMessage);
      child.removeListener('exit', onExit);
      if (err) reject(err); else resolve();
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function play(net: NetnsPair, timeout: number, vanishAfter: number, duration: number): Promise<number> {
  const dist = __dirname;
  const peer = net.spawnNode(net.b, join(dist, 'demo-peer.js'), [ADDR_B, String(PORT)]);
  await waitForMessage(peer, 'listening', 10_000, 'the demo server');

  const startClient = (mode: 'plain' | 'failfast', label: string, setup: string): [ClientState, ChildProcess] => {
    const state: ClientState = { label, setup, connected: false, writesDone: 0, unacknowledged: 0, retransmits: 0, rtoMs: 0 };
    const child = net.spawnNode(net.a, join(dist, 'demo-client.js'), [mode, ADDR_B, String(PORT), String(timeout)]);
    return [state, child];
  };
  const clients = [
    startClient('plain', 'plain Node', 'setKeepAlive(true, 1000)'),
    startClient('failfast', 'failFast', `{ timeout: ${timeout} }`),
  ];

  let plainGiveUp: { whileSendingMs: number; retries2: number } | undefined;
  let start = 0;
  let vanishedAt: number | null = null;
  const now = (): number => performance.now() - start;
  for (const [state, child] of clients) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- IPC messages from our own child, checked by `type`
    child.on('message', (m: any) => {
      if (m.type === 'connected') {
        state.connected = true;
        if (m.deadlines) plainGiveUp = m.deadlines;
      }
      if (m.type === 'tick') Object.assign(state, { writesDone: m.writesDone, unacknowledged: m.unacknowledged, retransmits: m.retransmits, rtoMs: m.rtoMs });
      if (m.type === 'dead' && !state.dead) state.dead = { atMs: now(), code: m.code, reason: m.reason, unacknowledgedBytes: m.unacknowledgedBytes };
    });
  }
  await Promise.all(clients.map(([, child]) => waitForMessage(child, 'connected', 10_000, 'a demo client')));
  start = performance.now();

  const screen = new Screen(process.stdout);
  screen.log('tcp-vitals demo: two clients write a line every 100 ms to a server in another namespace.');
  screen.log(`The server's host vanishes after ${formatShortDuration(vanishAfter)}: every packet dropped, no FIN, no RST.`);
  screen.log('');

  const render = (): string[] => {
    const t = now();
    const lines = [`  t = ${(t / 1000).toFixed(1).padStart(5)} s   ${vanishedAt === null ? 'peer healthy' : `peer vanished at ${(vanishedAt / 1000).toFixed(1)} s`}`];
    for (const [s] of clients) {
      const head = `  ${s.label.padEnd(10)} ${s.setup.padEnd(26)}`;
      if (s.dead) {
        const after = vanishedAt === null ? '' : ` (${formatShortDuration(s.dead.atMs - vanishedAt)} after the vanish)`;
        lines.push(`${head} DEAD at ${(s.dead.atMs / 1000).toFixed(1)} s${after}: ${s.dead.code}${s.dead.reason ? ` (${s.dead.reason})` : ''}` +
          `${s.dead.unacknowledgedBytes !== undefined ? `, ${formatBytes(s.dead.unacknowledgedBytes)} unacknowledged` : ''}`);
      } else {
        lines.push(`${head} writes ok ${String(s.writesDone).padStart(4)}   unacknowledged ${formatBytes(s.unacknowledged).padStart(8)}` +
          `   retransmits ${String(s.retransmits).padStart(2)}   rto ${formatShortDuration(s.rtoMs).padStart(7)}   no error yet`);
      }
    }
    return lines;
  };

  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const t = now();
      if (vanishedAt === null && t >= vanishAfter) {
        net.vanish(net.b);
        vanishedAt = now();
      }
      screen.draw(render());
      if (t >= duration) {
        clearInterval(tick);
        resolve();
      }
    }, 100);
  });
  screen.draw(render(), true);
  screen.release();

  const [plain, fast] = clients.map(([s]) => s);
  const elapsed = formatShortDuration(now());
  screen.log('');
  if (plain.dead) screen.log(`plain Node saw ${plain.dead.code} after ${formatShortDuration(plain.dead.atMs - (vanishedAt ?? 0))}.`);
  else screen.log(`After ${elapsed} plain Node has seen no error: ${plain.writesDone} writes "succeeded" (into the kernel's send buffer).`);
  if (!plain.dead && plainGiveUp) {
    screen.log(`Its kernel keeps retransmitting until tcp_retries2 = ${plainGiveUp.retries2} is used up: ETIMEDOUT about ${formatDuration(plainGiveUp.whileSendingMs)} after the vanish.`);
  }
  if (fast.dead && vanishedAt !== null) {
    screen.log(`failFast reported the dead peer ${formatShortDuration(fast.dead.atMs - vanishedAt)} after it vanished (timeout ${formatShortDuration(timeout)}).`);
    return 0;
  }
  screen.log('failFast did not report the dead peer within the run: this is a bug, please report it.');
  return EXIT_FAILURE;
}
