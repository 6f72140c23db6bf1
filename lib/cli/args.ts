/** Argument parsing shared by the subcommands: node:util parseArgs plus one-line usage errors. */
import { parseArgs, ParseArgsConfig } from 'node:util';

/** Exit code for a bad argument or a command that cannot start (missing privilege or tool). */
export const EXIT_USAGE = 2;
/** Exit code for a watched connection that died, or a run that failed. */
export const EXIT_FAILURE = 1;

/** A bad command line: printed as one line on stderr, exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly exitCode = EXIT_USAGE) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed command line of one subcommand. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` strictly against `options` (every subcommand also gets
 * `--help`/`-h`). Errors become a {@link UsageError} with parseArgs' first
 * sentence, e.g. "Unknown option '--frobnicate'".
 */
export function parse(argv: string[], options: Options, maxPositionals: number): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: maxPositionals > 0,
      strict: true,
    });
  } catch (e) {
    // Node's hint is dropped; the option as typed is kept whole (the error line escapes it).
    const message = String((e as Error).message).replace(/\. To specify a positional[\s\S]*$/, '');
    throw new UsageError(message);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`Unexpected argument '${parsed.positionals[maxPositionals]}'`);
  }
  return parsed as Parsed;
}

/** A whole number option within [min, max]; `undefined` when not given. */
export function integerOption(name: string, raw: string | boolean | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw);
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${text}'`);
  }
  return value;
}

/**
 * A duration option: a bare number is milliseconds; `ms`, `s` and `m`
 * suffixes are accepted ("500", "500ms", "2s", "1.5s", "1m"). Returns ms.
 */
export function durationOption(name: string, raw: string | boolean | undefined, minMs: number, maxMs: number): number | undefined {
  if (raw === undefined) return undefined;
  const text = String(raw);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  const ms = m ? Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 }[m[2] ?? 'ms'] as number) : NaN;
  if (!Number.isFinite(ms) || ms < minMs || ms > maxMs || !Number.isInteger(Math.round(ms))) {
    throw new UsageError(`--${name} must be a duration from ${minMs} ms to ${maxMs} ms (e.g. 500, 2s), got '${text}'`);
  }
  return Math.round(ms);
}
