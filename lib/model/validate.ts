/** Argument checks of the deadline model, with Node's error shapes. */
import { invalidArgType, outOfRange } from '../common/errors';

/**
 * Checks that `v` is a number in [min, max] (an integer when `integer`) and
 * returns it; throws ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE otherwise.
 */
export function validateNumber(name: string, v: unknown, min: number, max: number, integer = false): number {
  if (typeof v !== 'number') throw invalidArgType(name, 'of type number', v);
  if (Number.isNaN(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw outOfRange(name, `${integer ? 'an integer' : 'a number'} >= ${min} and <= ${max}`, v);
  }
  return v;
}

/**
 * The own enumerable properties of `o` on an object without a prototype, so
 * that an inherited or polluted Object.prototype key is never read as input.
 */
export function ownCopy<T extends object>(o: T): T {
  return Object.assign(Object.create(null) as T, o);
}
