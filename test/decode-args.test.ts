/**
 * decodeTcpInfo with bad arguments (issue 13 item 13): Node-shaped errors,
 * never a plain RangeError/TypeError without `code`, never a read outside
 * the buffer.
 */
import { decodeTcpInfo } from '../lib/index';

const buf = Buffer.alloc(280);
const call = (...args: unknown[]) => () => (decodeTcpInfo as (...a: unknown[]) => unknown)(...args);
const argType = (name: string) => expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining(`"${name}"`) });
const range = (name: string) => expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining(`"${name}"`) });

function thrown(fn: () => unknown): unknown {
  try { fn(); } catch (err) { return err; }
  throw new Error('did not throw');
}

describe('decodeTcpInfo argument errors', () => {
  test.each([
    ['a string', 'abc'], ['null', null], ['undefined', undefined], ['a number', 280], ['a plain object', { length: 280 }],
  ])('buffer is %s: ERR_INVALID_ARG_TYPE', (_what, value) => {
    expect(thrown(call(value, 104))).toEqual(argType('buffer'));
  });

  test.each([
    ['a string', '104'], ['null', null], ['a bigint', 104n],
  ])('length is %s: ERR_INVALID_ARG_TYPE', (_what, value) => {
    expect(thrown(call(buf, value))).toEqual(argType('length'));
  });

  test.each([
    ['negative', -1], ['too short to hold the state byte and flags', 7], ['fractional', 104.5], ['NaN', NaN],
    ['longer than the buffer', 281],
  ])('length %s: ERR_OUT_OF_RANGE', (_what, value) => {
    expect(thrown(call(buf, value))).toEqual(range('length'));
  });

  test('a short buffer (fewer bytes than length): ERR_OUT_OF_RANGE', () => {
    expect(thrown(call(Buffer.alloc(50), 104))).toEqual(range('length'));
  });

  test.each([
    ['negative', -8], ['fractional', 1.5], ['past the end', 281],
  ])('offset %s: ERR_OUT_OF_RANGE', (_what, value) => {
    expect(thrown(call(buf, 104, value))).toEqual(range('offset'));
  });

  test('offset + length beyond the buffer: ERR_OUT_OF_RANGE, nothing read outside it', () => {
    expect(thrown(call(buf, 104, 200))).toEqual(range('length'));
  });

  test('offset of the wrong type: ERR_INVALID_ARG_TYPE', () => {
    expect(thrown(call(buf, 104, '0'))).toEqual(argType('offset'));
  });

  test('valid calls still decode: a Buffer, a Uint8Array, and a subarray with an offset', () => {
    buf[0] = 1;
    expect(decodeTcpInfo(buf, 104).state).toBe('ESTABLISHED');
    expect(decodeTcpInfo(new Uint8Array(buf) as Buffer, 280).state).toBe('ESTABLISHED');
    const framed = Buffer.alloc(32 + 280);
    framed[32] = 10;
    expect(decodeTcpInfo(framed.subarray(0), 280, 32).state).toBe('LISTEN');
    expect(decodeTcpInfo(framed, 8, 32 + 272)).toMatchObject({ length: 8, state: 'UNKNOWN' });
  });
});
