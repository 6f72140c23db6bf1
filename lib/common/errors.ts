/** Errors shaped like Node's own. */
import { getSystemErrorName } from 'node:util';

/** A failed system call, shaped like Node's system errors (`code`, `errno`, `syscall`). */
export interface SystemError extends Error {
  code: string;
  /** Negative, as in Node (`-errno`). */
  errno: number;
  syscall: string;
}

/** Builds an Error for a failed syscall from a positive or negative errno. */
export function systemError(errno: number, syscall: string, detail?: string): SystemError {
  const n = -Math.abs(errno);
  let code: string;
  try {
    code = getSystemErrorName(n);
  } catch {
    code = `Unknown system error ${n}`;
  }
  const err = new Error(`${syscall} ${code}${detail ? ` (${detail})` : ''}`) as SystemError;
  err.code = code;
  err.errno = n;
  err.syscall = syscall;
  return err;
}

/** Throws {@link systemError} when `result` is negative; returns it otherwise. */
export function check(result: number, syscall: string, detail?: string): number {
  if (result < 0) throw systemError(result, syscall, detail);
  return result;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name;
    return ctor ? `an instance of ${ctor}` : 'an object';
  }
  const shown = typeof value === 'string' ? `'${value.length > 28 ? value.slice(0, 25) + '...' : value}'` : String(value);
  return `type ${typeof value} (${shown})`;
}

/** Node's ERR_INVALID_ARG_TYPE. */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError & { code: string } {
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`) as TypeError & { code: string };
  err.code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

/** Node's ERR_INVALID_ARG_VALUE. */
export function invalidArgValue(name: string, value: unknown, reason: string): TypeError & { code: string } {
  const err = new TypeError(`The argument '${name}' ${reason}. Received ${describe(value)}`) as TypeError & { code: string };
  err.code = 'ERR_INVALID_ARG_VALUE';
  return err;
}

/** Node's ERR_OUT_OF_RANGE. */
export function outOfRange(name: string, range: string, actual: unknown): RangeError & { code: string } {
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${String(actual)}`) as RangeError & { code: string };
  err.code = 'ERR_OUT_OF_RANGE';
  return err;
}

/** An error with a Node-style `code` and no errno (state errors such as ERR_SOCKET_CLOSED). */
export function codedError(code: string, message: string): Error & { code: string } {
  const err = new Error(message) as Error & { code: string };
  err.code = code;
  return err;
}

/** Validates an integer in [min, max] (inclusive). */
export function validateInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

/** Why the kernel or tcp-vitals declared a connection dead. */
export type DeathReason = 'retransmit' | 'keepalive' | 'zero-window' | 'unsent' | 'kernel';

/**
 * The error a socket is destroyed with when tcp-vitals (or the kernel, as seen
 * by tcp-vitals) declares its peer gone. `code` is always 'ETIMEDOUT'.
 */
export interface PeerGoneError extends Error {
  code: 'ETIMEDOUT';
  errno: number;
  syscall: string;
  /** Which path detected the death. */
  reason: DeathReason;
  /**
   * Bytes the application wrote that the peer never acknowledged: the kernel's
   * send queue (SIOCOUTQ, minus a queued FIN) plus Node's userland write buffer.
   */
  unacknowledgedBytes: number;
  /** With `retain`, exactly the unacknowledged suffix of the written stream. */
  unacknowledged?: Buffer;
  /** protect(): ms since the peer was last heard from (an ACK or data), when known. */
  silentMs?: number;
}

const ETIMEDOUT_ERRNO = 110;

/** Builds a {@link PeerGoneError}. */
export function peerGoneError(reason: DeathReason, unacknowledgedBytes: number, detail: string): PeerGoneError {
  const err = new Error(`connection timed out (${reason}): ${detail}`) as PeerGoneError;
  err.code = 'ETIMEDOUT';
  err.errno = -ETIMEDOUT_ERRNO;
  err.syscall = 'tcp-vitals';
  err.reason = reason;
  err.unacknowledgedBytes = unacknowledgedBytes;
  return err;
}
