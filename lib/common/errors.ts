/** Errors shaped like Node's own. */
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';

/**
 * errno numbers of the running platform, from Node's own table: this bottom
 * layer never loads the addon, and no errno is hard-coded in TypeScript.
 */
export const ERRNO: Readonly<Record<string, number>> = constants.errno;

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

/** The verdict a death carries: diagnose()'s Diagnosis (docs/api-diagnose.md), of which these fields are read here. */
export interface DeathDiagnosis {
  readonly verdict: string;
  readonly evidence: string;
  readonly durationMs: number | null;
}

/** Why the kernel or tcp-vitals declared a connection dead. */
export type DeathReason = 'retransmit' | 'keepalive' | 'zero-window' | 'unsent' | 'kernel';

/**
 * Brands, registered with `Symbol.for` so that the guards (and `instanceof`)
 * recognise errors made by another loaded copy of tcp-vitals too.
 */
const PEER_GONE = Symbol.for('tcp-vitals.PeerGoneError');
const ACK_ABORT = Symbol.for('tcp-vitals.AckAbortError');

function branded(value: unknown, brand: symbol): boolean {
  return value instanceof Error && (value as unknown as Record<symbol, unknown>)[brand] === true;
}

function brand(err: Error, key: symbol): void {
  Object.defineProperty(err, key, { value: true, enumerable: false, configurable: true });
}

/**
 * The error a socket is destroyed with when tcp-vitals (or the kernel, as seen
 * by tcp-vitals) declares its peer gone. Shaped like Node's system errors:
 * `code` is always 'ETIMEDOUT', `errno` its negative number, `syscall`
 * 'tcp-vitals' (or the syscall of the Node error failFast augmented).
 *
 * `err instanceof PeerGoneError` and {@link isPeerGoneError} also hold for a
 * Node ETIMEDOUT error that failFast augmented with `reason`, and for errors
 * made by another loaded copy of the package.
 */
export class PeerGoneError extends Error {
  declare code: 'ETIMEDOUT';
  /** Negative, as in Node (`-ETIMEDOUT`). */
  declare errno: number;
  declare syscall: string;
  /** Which path detected the death. */
  declare reason: DeathReason;
  /**
   * Bytes the application wrote that the peer never acknowledged: the kernel's
   * send queue (SIOCOUTQ, minus a queued FIN) plus Node's userland write buffer.
   */
  declare unacknowledgedBytes: number;
  /** With `retain`, exactly the unacknowledged suffix of the written stream. */
  declare unacknowledged?: Buffer;
  /** How long the peer had been silent when the death was detected, ms (when known). */
  declare silentMs?: number;
  /**
   * diagnose()'s verdict of the last reading before the death ('network',
   * 'peer-not-reading', 'peer-app-silent', ...), with the evidence in words.
   */
  declare diagnosis?: DeathDiagnosis;

  constructor(reason: DeathReason, unacknowledgedBytes: number, detail: string, options?: { cause?: unknown }) {
    super(`connection timed out (${reason}): ${detail}`, options);
    this.code = 'ETIMEDOUT';
    this.errno = -ERRNO.ETIMEDOUT;
    this.syscall = 'tcp-vitals';
    this.reason = reason;
    this.unacknowledgedBytes = unacknowledgedBytes;
    brand(this, PEER_GONE);
  }

  /** `instanceof` by brand: true for any error {@link isPeerGoneError} accepts. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== PeerGoneError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return isPeerGoneError(value);
  }
}

// On the prototype, so an instance's own keys stay those of a Node system error.
Object.defineProperty(PeerGoneError.prototype, 'name', { value: 'PeerGoneError', writable: true, configurable: true });

/** True for a {@link PeerGoneError} from any loaded copy of tcp-vitals (or a Node error failFast augmented). */
export function isPeerGoneError(err: unknown): err is PeerGoneError {
  return branded(err, PEER_GONE);
}

/** Builds a {@link PeerGoneError}. */
export function peerGoneError(reason: DeathReason, unacknowledgedBytes: number, detail: string): PeerGoneError {
  return new PeerGoneError(reason, unacknowledgedBytes, detail);
}

/**
 * Turns an ETIMEDOUT that Node got from the kernel into a {@link PeerGoneError}
 * in place: sets `reason` and `unacknowledgedBytes` and brands it (keeping its
 * own `errno`, `syscall`, message and stack).
 */
export function markPeerGone(err: Error, reason: DeathReason, unacknowledgedBytes: number): PeerGoneError {
  const e = err as PeerGoneError;
  e.reason = reason;
  e.unacknowledgedBytes = unacknowledgedBytes;
  brand(e, PEER_GONE);
  return e;
}

/**
 * What acked() rejects with when the wait is abandoned: Node's AbortError
 * shape (`name` 'AbortError', `code` 'ABORT_ERR', `cause`), plus the bytes
 * still unacknowledged. `instanceof` and {@link isAckAbortError} work across
 * loaded copies of the package.
 */
export class AckAbortError extends Error {
  declare code: 'ABORT_ERR';
  declare cause: unknown;
  /** Bytes not yet acknowledged when the wait was abandoned. */
  declare unacknowledgedBytes: number;

  constructor(message: string, unacknowledgedBytes: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
    this.code = 'ABORT_ERR';
    if (!options || !('cause' in options)) this.cause = undefined;
    this.unacknowledgedBytes = unacknowledgedBytes;
    brand(this, ACK_ABORT);
  }

  /** `instanceof` by brand, across loaded copies of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== AckAbortError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return isAckAbortError(value);
  }
}

/** True for an {@link AckAbortError} from any loaded copy of tcp-vitals. */
export function isAckAbortError(err: unknown): err is AckAbortError {
  return branded(err, ACK_ABORT);
}

/** Builds an {@link AckAbortError} (`cause` = the abort reason or a TimeoutError). */
export function ackAbortError(cause: unknown, message: string, unacknowledgedBytes: number): AckAbortError {
  return new AckAbortError(message, unacknowledgedBytes, { cause });
}
