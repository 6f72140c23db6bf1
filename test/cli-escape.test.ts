/**
 * Terminal injection (issue 19, items 2 and 9): text from another process
 * (/proc/PID/comm), the kernel, the environment or the command line is printed
 * with every control character escaped, by inspect, watch, doctor, the CLI's
 * error line and the preload's error line; --json stays JSON. A real process
 * named with terminal escapes is inspected.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { printable } from '../lib/common/text';
import { runCli } from './helpers/inspect-cli';

const HOSTILE_COMM = '\x1b[2J\x1b]0;pwn\x07\nx'; // what the fixture writes to /proc/self/comm (15 bytes: all kept)
// Any control character but the newline that ends each line (and none at all in a line).
// eslint-disable-next-line no-control-regex -- the point of the test
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

const lines = (text: string) => text.split('\n').filter((l) => l !== '');

describe('printable()', () => {
  test('escapes C0/C1 controls, DEL, bidi and line separators, and the backslash; keeps printable text', () => {
    expect(printable('\x1b[2J\x1b]0;pwn\x07')).toBe('\\x1b[2J\\x1b]0;pwn\\x07');
    expect(printable('a\nb\r\tc\\d')).toBe('a\\nb\\r\\tc\\\\d');
    expect(printable('\x7f\x9b\u202e\u2028\u0000')).toBe('\\x7f\\x9b\\u{202e}\\u{2028}\\x00');
    expect(printable('naïve 日本 127.0.0.1:80 [::1]:5432')).toBe('naïve 日本 127.0.0.1:80 [::1]:5432');
    expect(printable('')).toBe('');
  });
});

describe('inspect of a process named with terminal escapes', () => {
  let server: net.Server;
  let child: ReturnType<typeof spawn>;
  let ready: { pid: number; port: number };

  beforeAll(async () => {
    server = net.createServer((s) => { s.on('error', () => {}); s.resume(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    child = spawn(process.execPath, [join(__dirname, 'fixtures', 'hostile-comm.js'), String((server.address() as net.AddressInfo).port)],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    const it = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    ready = JSON.parse((await it.next()).value);
  });
  afterAll(async () => {
    child?.stdin?.end();
    child?.kill();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('inspect PID: no control character reaches the terminal; the name is shown escaped', async () => {
    const r = await runCli(['inspect', String(ready.pid)]);
    expect(r.code).toBe(0);
    for (const l of lines(r.stdout)) expect(l).not.toMatch(CONTROL);
    expect(r.stdout).toContain(`pid ${ready.pid} (${printable(HOSTILE_COMM)})`);
    expect(r.stdout).toContain(`:${ready.port} ->`);
  });

  test('inspect --all: the same', async () => {
    const r = await runCli(['inspect', '--all'], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(printable(HOSTILE_COMM));
    expect(r.stdout).not.toMatch(CONTROL);
  }, 70_000);

  test('inspect --json stays JSON (its escaping is JSON\'s)', async () => {
    const r = await runCli(['inspect', String(ready.pid), '--json']);
    expect(r.code).toBe(0);
    const rows = lines(r.stdout).map((l) => JSON.parse(l));
    expect(rows[0].command).toBe(HOSTILE_COMM);
    expect(r.stdout).not.toMatch(CONTROL);
  });
});

describe('error lines: one line, escaped', () => {
  const hostile = '\x1b[2J\x1b]0;pwn\x07\nsecond line';

  test.each([
    ['watch', ['watch', `${hostile}:80`]],
    ['doctor', ['doctor', `--${hostile}`]],
    ['inspect', ['inspect', hostile]],
    ['an unknown command', [hostile]],
  ])('%s', async (_name, args) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).not.toMatch(CONTROL);
    expect(r.stderr).toContain('\\x1b[2J\\x1b]0;pwn\\x07\\nsecond line');
  });

  test('the preload (register): a bad rule is repeated on one escaped line, exit 9', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TCP_VITALS_INCLUDE: `ok.example,${hostile}` };
    delete env.NODE_OPTIONS;
    const r = spawnSync(process.execPath, ['--require', join(__dirname, '..', 'dist', 'register.js'), '-e', '0'],
      { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(9);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).not.toMatch(CONTROL);
    expect(r.stderr).toMatch(/^tcp-vitals: TCP_VITALS_INCLUDE=.* is not valid: /);
    expect(r.stderr).toContain('\\x1b[2J\\x1b]0;pwn\\x07\\nsecond line');
  });
});
