#!/usr/bin/env node
/**
 * The `tcp-vitals` command: `doctor`, `watch`, `demo`, `inspect`. Exit codes: 0 ok,
 * 1 the watched connection died (or a run failed), 2 bad arguments or a
 * command that cannot start (e.g. demo without root). Errors are one line on
 * stderr.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { printable } from '../common/text';
import { EXIT_FAILURE, UsageError } from './args';

const HELP = `Usage: tcp-vitals <command> [options]

See how long your TCP connections take to notice a dead peer, and watch them live.

Commands:
  doctor              this machine's TCP timeouts in plain words (no root, no server)
  watch HOST:PORT     connect and show live rtt, cwnd, retransmits, queues, give-up
  watch --listen PORT accept one client and watch that connection
  demo                (root) a peer vanishes: plain Node vs failFast, side by side
  inspect PID|--all   (root) every TCP connection of a running process: options, traps, verdict

Run 'tcp-vitals <command> --help' for a command's options; 'tcp-vitals --version' prints the version.
Exit codes: 0 ok, 1 connection died / run failed, 2 bad arguments or cannot start.
`;

/** A subcommand: resolves to the process exit code. */
type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Command> = {
  doctor: () => require('./doctor').doctorCommand,
  watch: () => require('./watch').watchCommand,
  demo: () => require('./demo').demoCommand,
  inspect: () => require('./inspect').inspectCommand,
};

function isCommand(name: string | undefined): name is string {
  return name !== undefined && Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

/** The version in the package.json next to dist/ (dist/cli/index.js -> ../../package.json). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The reader of our stdout went away (`tcp-vitals watch ... | head -1`):
 * nothing more can be shown, so end quietly with exit 0 (the 'exit' hooks
 * still remove any namespace the command created).
 */
function endQuietlyOnEpipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

/** Runs the command line `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) throw new UsageError('missing command: doctor, watch, demo or inspect (see tcp-vitals --help)');
    if (name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    if (name === '--version' || name === '-v') {
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    const load = isCommand(name) ? COMMANDS[name] : undefined;
    if (!load) throw new UsageError(`unknown command '${name}' (commands: doctor, watch, demo, inspect; see tcp-vitals --help)`);
    return await load()(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tcp-vitals${isCommand(name) ? ` ${name}` : ''}: ${printable(e.message)}\n`);
      return e.exitCode;
    }
    const err = e as NodeJS.ErrnoException;
    const message = String(err?.message ?? err).split('\n')[0];
    const code = err?.code && !message.includes(String(err.code)) ? `${err.code}: ` : '';
    process.stderr.write(`tcp-vitals${isCommand(name) ? ` ${name}` : ''}: ${printable(`${code}${message}`)}\n`);
    return EXIT_FAILURE;
  }
}

if (require.main === module) {
  endQuietlyOnEpipe(process.stdout);
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
