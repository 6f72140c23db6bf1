/**
 * `tcp-vitals inspect PID [PID...]` / `--all`: every TCP connection of a
 * running process, read from the outside (pidfd_getfd; root or ptrace
 * rights), never changed: vitals, options as set, predicted detection of a
 * vanished peer, traps, and a diagnose() verdict.
 */
import { allPids } from '../kernel/proc-net';
import { inspectProcess, ProcessInspection } from '../readings/inspect';
import { durationOption, integerOption, parse, UsageError } from './args';
import { printable } from '../common/text';
import { processLines } from './inspect-text';

const HELP = `Usage: tcp-vitals inspect PID [PID...] [options]
       tcp-vitals inspect --all [options]

Lists every TCP connection of a running process (any language), grouped by
peer: addresses, state, rtt, unacknowledged/unsent/receive-queue bytes,
retransmits, when the peer was last heard from, its options as actually set
(keepalive, TCP_USER_TIMEOUT, SYN count), how long a vanished peer would go
unnoticed while sending and while idle (with the sysctls of the process's own
network namespace), the traps, and a verdict (network, peer-not-reading,
peer-app-silent, idle, healthy, closed). Read-only: the sockets are duplicated
with pidfd_getfd(2), read with getsockopt/ioctl and closed at once. Needs root
or ptrace rights over the process (Linux 5.6+).

Options:
  --all                every process this user may inspect (others are counted)
  --json               one JSON object per connection, one per line
  --watch DURATION     refresh every DURATION (e.g. 2s); Ctrl-C to stop
  --count N            with --watch: stop after N refreshes
  -h, --help           this help

Exit codes: 0 done, 2 bad arguments, or a PID that does not exist or may not
be inspected (one line saying why).
`;

interface Run {
  pids: number[] | 'all';
  json: boolean;
}

/** Inspects the pids (or every inspectable pid); throws a UsageError for an explicit pid that fails. */
export function collect(run: Run): { processes: ProcessInspection[]; unreadable: number } {
  const processes: ProcessInspection[] = [];
  let unreadable = 0;
  for (const pid of run.pids === 'all' ? allPids() : run.pids) {
    try {
      const p = inspectProcess(pid);
      if (run.pids !== 'all' || p.connections.length > 0) processes.push(p);
    } catch (e) {
      if (run.pids === 'all') { unreadable++; continue; }
      throw new UsageError(whyNot(pid, e as NodeJS.ErrnoException));
    }
  }
  return { processes, unreadable };
}

/** One line: why `pid` cannot be inspected. */
export function whyNot(pid: number, e: NodeJS.ErrnoException): string {
  if (e.code === 'ESRCH' || e.code === 'ENOENT') return `no process with pid ${pid} (${e.code})`;
  if (e.code === 'EPERM' || e.code === 'EACCES') {
    return `not permitted to inspect pid ${pid}: reading another process's sockets needs root or ptrace rights over it (${e.syscall} ${e.code})`;
  }
  if (e.code === 'ENOSYS') return `pidfd_open/pidfd_getfd not available: needs Linux 5.6 or later (${e.code})`;
  return `cannot inspect pid ${pid}: ${String(e.message).split('\n')[0]}`;
}

function report(run: Run): string[] {
  const { processes, unreadable } = collect(run);
  if (run.json) {
    return processes.flatMap((p) => p.connections.map((c) => JSON.stringify(c)));
  }
  const lines: string[] = [];
  for (const p of processes) {
    if (lines.length) lines.push('');
    lines.push(...processLines(p));
  }
  if (run.pids === 'all') {
    lines.push('', `${processes.length} processes with TCP connections`
      + (unreadable ? `; ${unreadable} processes could not be inspected (not permitted, or exited)` : ''));
  }
  return lines.map(printable); // comm, addresses: another process's and the kernel's text, never raw on a terminal
}

function parsePid(text: string): number {
  const pid = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(pid) || pid < 1 || pid > 0x3fffffff) throw new UsageError(`expected a process id, got '${text}'`);
  return pid;
}

/** Runs `tcp-vitals inspect`; resolves to the exit code. */
export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    watch: { type: 'string' },
    count: { type: 'string' },
  }, Infinity);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.all && positionals.length) throw new UsageError('give PIDs or --all, not both');
  if (!values.all && positionals.length === 0) throw new UsageError('missing PID (or --all)');
  const run: Run = { pids: values.all ? 'all' : positionals.map(parsePid), json: values.json === true };
  const interval = durationOption('watch', values.watch, 100, 3_600_000);
  const count = integerOption('count', values.count, 1, Number.MAX_SAFE_INTEGER);
  if (count !== undefined && interval === undefined) throw new UsageError('--count only applies with --watch');
  if (interval === undefined) {
    const lines = report(run);
    if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }
  return watchLoop(run, interval, count);
}

/** Refreshes the report every `interval`: on a terminal in place (cursor home, clear to end), else one block per refresh. */
function watchLoop(run: Run, interval: number, count: number | undefined): Promise<number> {
  const out = process.stdout;
  const tty = out.isTTY === true;
  report(run); // a bad PID fails here, before anything is drawn
  let frames = 0;
  return new Promise<number>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (code: number): void => {
      if (timer) clearInterval(timer);
      process.removeListener('SIGINT', onSigint);
      resolve(code);
    };
    const onSigint = (): void => finish(0);
    process.once('SIGINT', onSigint);
    const frame = (): void => {
      let lines: string[];
      try {
        lines = report(run);
      } catch (e) {
        process.stderr.write(`tcp-vitals inspect: ${printable(String((e as Error).message))}\n`);
        finish(2);
        return;
      }
      const header = run.json ? [] : [`${new Date().toISOString()}  every ${interval / 1000} s (Ctrl-C to stop)`, ''];
      const all = [...header, ...lines];
      if (tty && !run.json) out.write(`\x1b[H${all.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`);
      else out.write(`${all.join('\n')}\n`);
      frames++;
      if (count !== undefined && frames >= count) finish(0);
    };
    if (tty && !run.json) out.write('\x1b[H\x1b[2J');
    frame();
    if (count === undefined || frames < count) timer = setInterval(frame, interval);
  });
}
