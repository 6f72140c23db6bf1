/**
 * One concept, one place: the numbers TypeScript takes from the addon agree
 * with the ones Node and the layout table know; durations are formatted by one
 * function (doctor prints one form); options are read from own properties only.
 */
import { execFileSync } from 'node:child_process';
import { constants as os } from 'node:os';
import { join } from 'node:path';
import { ERRNO } from '../lib/common/errors';
import { ownOption, validateDuration, validateInteger, validateObject, validateWholeSeconds } from '../lib/common/validate';
import { loadBinding } from '../lib/kernel/binding';
import { TCP_INFO_FIELDS, TCP_INFO_KIND_SIZE, TCP_INFO_OFFSETS } from '../lib/kernel/tcpinfo-layout';
import * as cliFormat from '../lib/cli/format';
import * as modelFormat from '../lib/model/format';

test('errno numbers: the addon, Node and the bottom layer agree', () => {
  const c = loadBinding().constants;
  for (const name of ['ETIMEDOUT', 'EOPNOTSUPP', 'ENOPROTOOPT', 'ESTALE'] as const) {
    expect({ name, addon: c[name] }).toEqual({ name, addon: os.errno[name] });
    expect(ERRNO[name]).toBe(c[name]);
  }
});

test('tcp_info facts the C++ batch read uses match the layout table', () => {
  const c = loadBinding().constants;
  expect(c.TCP_INFO_NOTSENT_OFFSET).toBe(TCP_INFO_OFFSETS.notsentBytes);
  const base = TCP_INFO_FIELDS.filter(([, , , since]) => since === '2.6');
  const [, lastOff, lastKind] = base[base.length - 1];
  expect(c.TCP_INFO_MIN_LENGTH).toBe(lastOff + TCP_INFO_KIND_SIZE[lastKind]);
});

test('one duration formatter: the CLI re-exports the model\'s, and doctor prints one form', () => {
  expect(cliFormat.formatDuration).toBe(modelFormat.formatDuration);
  const out = execFileSync(process.execPath, [join(__dirname, '..', 'dist', 'cli', 'index.js'), 'doctor'], { encoding: 'utf8', timeout: 20_000 });
  expect(out).not.toMatch(/\d (min|h) \([\d.,]+ s\)/); // the CLI's old second form
  expect(out).toMatch(/\d+\.\d min/);
});

describe('validators', () => {
  test('ownOption reads own properties only, never the prototype chain', () => {
    const inherited = Object.create({ keepAlive: true }) as object;
    expect(ownOption(inherited, 'keepAlive')).toBeUndefined();
    expect(ownOption({ keepAlive: false }, 'keepAlive')).toBe(false);
    const proto = Object.prototype as Record<string, unknown>;
    proto.pollutedForTest = 1;
    try {
      expect(ownOption({}, 'pollutedForTest')).toBeUndefined();
    } finally {
      delete proto.pollutedForTest;
    }
    expect(ownOption(Object.create(null) as object, 'x')).toBeUndefined();
  });

  test("Node's error shapes", () => {
    expect(() => validateObject('options', null)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => validateObject('options', 'x')).toThrow(/The "options" argument must be of type object. Received type string \('x'\)/);
    expect(validateObject('options', undefined, true)).toEqual({});
    expect(() => validateObject('options', undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => validateInteger('n', 1.5, 0, 10)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', name: 'RangeError' }));
    expect(() => validateInteger('n', '1', 0, 10)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' }));
    expect(validateDuration('d', undefined, 10, 100, 50)).toBe(50);
    expect(() => validateDuration('d', 5, 10, 100, 50)).toThrow(/It must be an integer >= 10 and <= 100. Received 5/);
    expect(validateWholeSeconds('t', 3000, 2000, 5000)).toBe(3000);
    expect(() => validateWholeSeconds('t', 2500, 2000, 5000)).toThrow(/whole seconds in milliseconds/);
  });
});
