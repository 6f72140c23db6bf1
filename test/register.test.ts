/**
 * The preload, `tcp-vitals/register`: loaded with --require, --import and
 * NODE_OPTIONS, through the built file and through a project whose
 * node_modules/tcp-vitals is a symlink to this checkout; every way Node opens
 * TCP is covered with no per-client code (on each Node binary listed in
 * TCP_VITALS_TEST_NODES as well as this one); bad environment values stop
 * start-up with one line; a protected process exits by itself.
 */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(__dirname, '..');
const REGISTER = join(root, 'dist', 'register.js');
const scratch = mkdtempSync(join(tmpdir(), 'tv-register-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(node: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = root): SpawnSyncReturns<string> {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('TCP_VITALS_') || k === 'NODE_OPTIONS') delete clean[k];
  return spawnSync(node, args, { cwd, env: { ...clean, ...env }, encoding: 'utf8', timeout: 60_000 });
}

/** This Node plus every binary in TCP_VITALS_TEST_NODES (comma-separated paths; .ci/run installs 18, 20, 22, 24 and 26). */
const nodes: string[] = [process.execPath, ...(process.env.TCP_VITALS_TEST_NODES ?? '').split(',').filter(Boolean)];

// Under CI the coverage must include Node 18, 20, 22, 24 and 26 (.ci/run installs them): a missing install is a
// failure, not less coverage.
(process.env.CI === 'true' ? test : test.skip)('CI covers Node 18, 20, 22, 24 and 26', () => {
  const majors = nodes.map((n) => spawnSync(n, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout.trim());
  expect(majors).toEqual(expect.arrayContaining(['18', '20', '22', '24', '26']));
});

describe.each(nodes)('coverage with %s', (node) => {
  test('every way of opening TCP gets the options, before or with the SYN, and servers=1 covers accepted sockets', () => {
    expect(existsSync(node)).toBe(true);
    const dir = mkdtempSync(join(scratch, 'cov-'));
    const r = run(node, ['--require', REGISTER, join(__dirname, 'fixtures', 'protect-coverage.js'), dir],
      { TCP_VITALS_TIMEOUT: '4s', TCP_VITALS_SERVERS: '1' });
    const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
    expect({ errors: report.errors, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ errors: [], stderr: '' });
    const kinds = ['net.connect', 'new Socket().connect', 'tls.connect', 'tls over a socket', 'http.Agent',
      'https.Agent (after keepSocketAlive)', 'fetch', 'http2.connect', 'happy eyeballs'];
    for (const kind of kinds) {
      expect({ kind, ...report.results[kind] }).toEqual({ kind, sockets: 1, userTimeouts: [3800], keepIdles: [2000] });
    }
    expect(report.inbound.length).toBeGreaterThanOrEqual(kinds.length);
    expect(new Set(report.inbound)).toEqual(new Set([3800]));
  });
});

describe('bad environment values stop start-up with one line naming the variable', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['TCP_VITALS_TIMEOUT', 'abc', /TCP_VITALS_TIMEOUT="abc".*milliseconds or a duration/],
    ['TCP_VITALS_TIMEOUT', '1500', /TCP_VITALS_TIMEOUT="1500".*whole seconds from 2s to 1h/],
    ['TCP_VITALS_TIMEOUT', '10x', /TCP_VITALS_TIMEOUT="10x"/],
    ['TCP_VITALS_TIMEOUT', '2h', /TCP_VITALS_TIMEOUT="2h"/],
    ['TCP_VITALS_SERVERS', 'maybe', /TCP_VITALS_SERVERS="maybe".*expected 1 or 0/],
    ['TCP_VITALS_INCLUDE', '10.0.0.0/33', /TCP_VITALS_INCLUDE=.*bad CIDR prefix.*comma-separated list/],
    ['TCP_VITALS_EXCLUDE', 'db:99999', /TCP_VITALS_EXCLUDE=.*outside 1\.\.65535/],
    ['TCP_VITALS_EXCLUDE', 'a b', /TCP_VITALS_EXCLUDE=.*not a host name/],
  ];
  test.each(cases)('%s=%s', (name, value, pattern) => {
    const r = run(process.execPath, ['--require', REGISTER, '-e', 'console.log("app ran")'], { [name]: value });
    expect(r.status).toBe(9);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
  });

  test('the same through --import and NODE_OPTIONS', () => {
    const viaImport = run(process.execPath, ['--import', pathToFileURL(REGISTER).href, '-e', 'console.log("app ran")'], { TCP_VITALS_TIMEOUT: 'soon' });
    expect(viaImport.status).toBe(9);
    expect(viaImport.stderr.trim().split('\n')).toHaveLength(1);
    const viaOptions = run(process.execPath, ['-e', 'console.log("app ran")'], { NODE_OPTIONS: `--require ${REGISTER}`, TCP_VITALS_SERVERS: '2' });
    expect(viaOptions.status).toBe(9);
    expect(viaOptions.stderr.trim()).toMatch(/^tcp-vitals: TCP_VITALS_SERVERS="2"/);
  });

  test('good values start the application', () => {
    const r = run(process.execPath, ['--require', REGISTER, '-e', 'console.log(require(process.argv[1]).registered.timeout)', REGISTER],
      { TCP_VITALS_TIMEOUT: '1m', TCP_VITALS_SERVERS: '0', TCP_VITALS_INCLUDE: 'db.internal:5432, :6379, 10.0.0.0/8, fd00::/8, [::1]:80', TCP_VITALS_EXCLUDE: '' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout.trim()).toBe('60000');
  });
});

describe('entry points', () => {
  const app = `const net = require('node:net');
const s = net.createServer((c) => c.end()).listen(0, '127.0.0.1', () => {
  const c = net.connect(s.address().port, '127.0.0.1', () => {
    const { getOptions } = require(${JSON.stringify(join(root, 'dist'))});
    console.log(getOptions(c).userTimeout); c.destroy(); s.close();
  });
});`;
  const appFile = join(scratch, 'app.js');
  const appMjs = join(scratch, 'app.mjs');
  beforeAll(() => {
    writeFileSync(appFile, app);
    writeFileSync(appMjs, `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${app}`);
  });

  test('--require, --import and NODE_OPTIONS with the built file', () => {
    const env = { TCP_VITALS_TIMEOUT: '5s' };
    expect(run(process.execPath, ['--require', REGISTER, appFile], env).stdout.trim()).toBe('4800');
    expect(run(process.execPath, ['--import', pathToFileURL(REGISTER).href, appMjs], env).stdout.trim()).toBe('4800');
    expect(run(process.execPath, [appFile], { ...env, NODE_OPTIONS: `--require ${REGISTER}` }).stdout.trim()).toBe('4800');
    // Loaded twice (--require and --import): one protect(), no error.
    const twice = run(process.execPath, ['--require', REGISTER, '--import', pathToFileURL(REGISTER).href, appMjs], env);
    expect({ out: twice.stdout.trim(), err: twice.stderr }).toEqual({ out: '4800', err: '' });
    // No environment: the default 10 s.
    expect(run(process.execPath, ['--require', REGISTER, appFile]).stdout.trim()).toBe('9800');
  });

  test('through a project where node_modules/tcp-vitals is a symlink to this checkout', () => {
    const project = join(scratch, 'project');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    symlinkSync(root, join(project, 'node_modules', 'tcp-vitals'), 'dir');
    writeFileSync(join(project, 'app.js'), app);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    // With an exports map the contract name is tcp-vitals/register; before it exists, the file path.
    const specifier = pkg.exports?.['./register'] ? 'tcp-vitals/register' : 'tcp-vitals/dist/register.js';
    const env = { TCP_VITALS_TIMEOUT: '3s' };
    expect(run(process.execPath, ['--require', specifier, 'app.js'], env, project).stdout.trim()).toBe('2800');
    expect(run(process.execPath, ['app.js'], { ...env, NODE_OPTIONS: `--require ${specifier}` }, project).stdout.trim()).toBe('2800');
    const mjs = join(project, 'app.mjs');
    writeFileSync(mjs, `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${app}`);
    expect(run(process.execPath, ['--import', specifier, 'app.mjs'], env, project).stdout.trim()).toBe('2800');
  });

  test('a protected process with an open, written-to connection still exits by itself', () => {
    const r = run(process.execPath, ['--require', REGISTER, join(__dirname, 'fixtures', 'protect-exit.js')], { TCP_VITALS_TIMEOUT: '4s' });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    expect(r.stdout).toBe('protected 1\ndone\n');
  });
});
