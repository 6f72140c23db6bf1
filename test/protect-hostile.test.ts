/**
 * protect() with a hostile or buggy match() (issue 19, items 1 and 5): a
 * result whose getter throws, a revoked Proxy, a thrown object whose
 * `message` getter throws: nothing escapes into Node's connect path and the
 * connection gets the default timeout. A match() that stops its own guard
 * leaves nothing behind. Runs in a child process (the hooks are process-wide).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

let out: { results: Record<string, any>; uncaught: string[]; failed?: string };

beforeAll(() => {
  const text = execFileSync(process.execPath, [join(__dirname, 'fixtures', 'protect-hostile.js')],
    { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  out = JSON.parse(text.trim().split('\n').pop()!);
}, 90_000);

const T = 3800; // TCP_USER_TIMEOUT for timeout 4000 (timeout - 200 ms)

test('the child ran to the end, and nothing reached uncaughtException', () => {
  expect(out.failed).toBeUndefined();
  expect(out.uncaught).toEqual([]);
});

test.each(['getter', 'revokedProxy', 'throwsUnprintable', 'throwsProxy'])('match() %s: protected with the default timeout', (name) => {
  expect(out.results[name]).toEqual({ userTimeout: T, uncaught: [], protectedNow: 1 });
});

test('the failures warn once per process, naming what could be read', () => {
  expect(out.results.warnings).toEqual(['tcp-vitals: protect() match() threw (x); protecting with the default timeout']);
});

test('a match() that calls its own guard\'s stop(): not protected, protectedNow 0, not left in the registry', () => {
  expect(out.results.selfStop).toEqual({ during: { protectedNow: 0, userTimeout: 0 }, after: { protectedNow: 0, registered: false } });
});

test('...and another protect() after it in the listener list still protects that connection', () => {
  expect(out.results.selfStopOther).toEqual({ userTimeout: 5800, second: 1, first: 0 });
});
