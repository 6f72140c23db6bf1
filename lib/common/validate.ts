/**
 * The argument validators, in one place. Every public entry point checks its
 * arguments with these, so bad input always gets Node's error shapes
 * (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE) and the same wording.
 */
import { invalidArgType, outOfRange } from './errors';

/** The largest value a C int (and so most socket options) holds. */
export const INT32_MAX = 0x7fffffff;

/**
 * `options` as an object to read options from, or ERR_INVALID_ARG_TYPE. With
 * `optional`, undefined gives an empty object. Read its keys with
 * {@link ownOption}: own properties only, never the prototype chain.
 */
export function validateObject(name: string, value: unknown, optional = false): object {
  if (value === undefined && optional) return EMPTY;
  if (value === null || typeof value !== 'object') throw invalidArgType(name, 'of type object', value);
  return value;
}
const EMPTY: object = Object.freeze(Object.create(null));

/**
 * The own property `key` of `obj`, or undefined: a key inherited through the
 * prototype chain (`Object.create({ keepAlive: true })`, a polluted
 * Object.prototype) is never read as an option.
 */
export function ownOption<T extends object, K extends keyof T & string>(obj: T, key: K): T[K] | undefined;
export function ownOption(obj: object, key: string): unknown;
export function ownOption(obj: object, key: string): unknown {
  return Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/**
 * An integer in [min, max] (inclusive), or ERR_INVALID_ARG_TYPE (not a number)
 * / ERR_OUT_OF_RANGE (NaN, fractional, or outside the range).
 */
export function validateInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

/**
 * A number in [min, max] (an integer when `integer`), or ERR_INVALID_ARG_TYPE
 * / ERR_OUT_OF_RANGE (NaN is out of range).
 */
export function validateNumber(name: string, value: unknown, min: number, max: number, integer = false): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (Number.isNaN(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw outOfRange(name, `${integer ? 'an integer' : 'a number'} >= ${min} and <= ${max}`, value);
  }
  return value;
}

/** A duration in ms: an integer in [min, max]; undefined gives `fallback`. */
export function validateDuration(name: string, value: unknown, min: number, max: number, fallback: number): number {
  return value === undefined ? fallback : validateInteger(name, value, min, max);
}

/**
 * Whole seconds given in milliseconds (the kernel's unit for keepalive and
 * failFast timeouts), in [minMs, maxMs]; returns the ms.
 */
export function validateWholeSeconds(name: string, value: unknown, minMs: number, maxMs: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value % 1000 !== 0 || value < minMs || value > maxMs) {
    throw outOfRange(name, `whole seconds in milliseconds, >= ${minMs} and <= ${maxMs}`, value);
  }
  return value;
}

/** A boolean, or ERR_INVALID_ARG_TYPE. */
export function validateBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
  return value;
}

/** An AbortSignal (for `signal` options), or ERR_INVALID_ARG_TYPE; undefined passes through. */
export function validateSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) throw invalidArgType(name, 'an instance of AbortSignal', value);
  return value;
}

/**
 * The own enumerable properties of `o` on an object without a prototype, so
 * that an inherited or polluted Object.prototype key is never read as input.
 */
export function ownCopy<T extends object>(o: T): T {
  return Object.assign(Object.create(null) as T, o);
}
