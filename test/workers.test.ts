/**
 * Worker threads are first-class: protect() in a worker and the worker ending
 * every way (return, throw, terminate(), process.exit in the worker), with and
 * without sockets, with and without protect() in the main thread, never
 * crashes the process (it was SIGSEGV, exit 139: the deathwatch's uv_poll was
 * closed after the worker's env had unloaded the addon). Each case runs in a
 * child process of its own. The preload (`--require`, NODE_OPTIONS) protects
 * workers' connections, and a peer that vanishes under a worker's connection
 * is detected by that worker's own deathwatch (network namespaces).
 */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADDR_B, describeNetns, fixture, NetPair } from './helpers/netns';
import { REGISTER } from './helpers/preload';

const root = join(__dirname, '..');
const TEARDOWN = join(__dirname, 'fixtures', 'worker-teardown.js');

function run(node: string, args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('TCP_VITALS_') || k === 'NODE_OPTIONS') delete clean[k];
  return spawnSync(node, args, { cwd: root, env: { ...clean, ...env }, encoding: 'utf8', timeout: 90_000 });
}

interface CaseResult { case: string; ok: boolean }
function report(r: SpawnSyncReturns<string>): CaseResult[] {
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return (JSON.parse(last) as { results: CaseResult[] }).results;
  } catch {
    return [];
  }
}

/** This Node plus every binary in TCP_VITALS_TEST_NODES (.ci/run installs 18, 20, 22, 24 and 26). */
const nodes: string[] = [process.execPath, ...(process.env.TCP_VITALS_TEST_NODES ?? '').split(',').filter(Boolean)];

const ENDS = ['return', 'throw', 'terminate', 'exit'];
const cases: string[] = [];
for (const main of ['nomain', 'main']) for (const sockets of ['none', 'sockets']) for (const end of ENDS) cases.push(`${end}-${sockets}-${main}`);

describe('a worker that protect()s ends without crashing the process', () => {
  test('the issue\'s one-liner exits 0', () => {
    const code = `new (require('worker_threads').Worker)('require(${JSON.stringify(root)}).protect().stop()', {eval: true})`;
    const r = run(process.execPath, ['-e', code]);
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  });

  // <end>-<sockets>-<main>: see test/fixtures/worker-teardown.js.
  test.each(cases)('%s', (name) => {
    const r = run(process.execPath, [TEARDOWN, name]);
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
    const results = report(r);
    expect(results.map((x) => x.case)).toEqual([name, 'after']);
    expect(results.filter((x) => !x.ok)).toEqual([]);
  });

  // The process ends while a protecting worker with a socket still runs.
  test.each(['process-exit', 'unref'])('the main thread ends the process under a running worker: %s', (how) => {
    const r = run(process.execPath, [TEARDOWN, how]);
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    expect(report(r)).toEqual([expect.objectContaining({ case: how, ok: true })]);
  });

  // terminate() while the worker's deathwatch delivers (100 connections reset by the peer just before), 5 rounds.
  // It aborted the process: node-addon-api's MakeCallback error path in an env that can no longer run JS.
  test.each(nodes)('terminate() while deaths are being delivered, on %s', (node) => {
    const r = run(node, [TEARDOWN, 'deaths']);
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const results = report(r);
    expect(results).toHaveLength(5);
    expect(results.filter((x) => !x.ok)).toEqual([]);
  });

  test.each(nodes)('every case, then four workers at once, on %s', (node) => {
    const r = run(node, [TEARDOWN]);
    expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const results = report(r);
    expect(results).toHaveLength(cases.length + 2);
    expect(results.filter((x) => !x.ok)).toEqual([]);
  });
});

describe('the preload protects workers\' connections', () => {
  // The main thread connects to its own loopback server, then a worker does; both print their socket's options.
  const app = `const net = require('node:net');
const { Worker, isMainThread, parentPort } = require('node:worker_threads');
const { getOptions } = require(${JSON.stringify(join(root, 'dist'))});
const srv = net.createServer((s) => s.pause()).listen(0, '127.0.0.1', () => {
  const c = net.connect(srv.address().port, '127.0.0.1', () => {
    const { registered } = require(${JSON.stringify(REGISTER)});
    const line = (isMainThread ? 'main ' : 'worker ') + getOptions(c).userTimeout + ' ' + registered.stats().protectedNow;
    c.destroy(); srv.close();
    if (isMainThread) { console.log(line); new Worker(__filename).on('message', (m) => console.log(m)); } else parentPort.postMessage(line);
  });
});`;

  const scratch = mkdtempSync(join(tmpdir(), 'tv-workers-'));
  const appFile = join(scratch, 'app.js');
  beforeAll(() => writeFileSync(appFile, app));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test.each(nodes)('--require and NODE_OPTIONS, on %s', (node) => {
    const env = { TCP_VITALS_TIMEOUT: '5s' };
    const viaRequire = run(node, ['--require', REGISTER, appFile], env);
    expect({ out: viaRequire.stdout.trim().split('\n'), err: viaRequire.stderr, status: viaRequire.status })
      .toEqual({ out: ['main 4800 1', 'worker 4800 1'], err: '', status: 0 });
    const viaOptions = run(node, [appFile], { ...env, NODE_OPTIONS: `--require ${REGISTER}` });
    expect({ out: viaOptions.stdout.trim().split('\n'), err: viaOptions.stderr, status: viaOptions.status })
      .toEqual({ out: ['main 4800 1', 'worker 4800 1'], err: '', status: 0 });
  });
});

const TIMEOUT = 3000;
const SLACK_MS = 1000;
const pairs: NetPair[] = [];

describeNetns('a vanished peer under a worker\'s connection (preload only)', () => {
  afterAll(() => { for (const p of pairs) p.destroy(); });

  test('the worker\'s own deathwatch reports it, within timeout of the vanish; the main thread\'s too', async () => {
    const pair = NetPair.create();
    pairs.push(pair);
    const port = 7300;
    const peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, String(port)]);
    await peer.waitFor((m) => m.type === 'listening', 10_000);
    const client = pair.spawnNode(pair.a, '--require', [REGISTER, fixture('worker-protect-client.js'), JSON.stringify({ host: ADDR_B, port })],
      { TCP_VITALS_TIMEOUT: `${TIMEOUT / 1000}s` });
    const mainUp = await client.waitFor((m) => m.type === 'connected' && m.thread === 0, 15_000);
    const workerUp = await client.waitFor((m) => m.type === 'connected' && m.thread !== 0, 15_000);
    expect([mainUp.protectedNow, workerUp.protectedNow]).toEqual([1, 1]);
    await new Promise((r) => setTimeout(r, 300));
    pair.vanish();
    const at = performance.timeOrigin + performance.now();
    const inWorker = await client.waitFor((m) => m.type === 'error' && m.thread === workerUp.thread, TIMEOUT + SLACK_MS + 5000);
    const inMain = await client.waitFor((m) => m.type === 'error' && m.thread === 0, TIMEOUT + SLACK_MS + 5000);
    for (const err of [inWorker, inMain]) {
      // Idle connections: the kernel's keepalive verdict, delivered by each thread's deathwatch.
      expect({ code: err.code, reason: err.reason }).toEqual({ code: 'ETIMEDOUT', reason: 'keepalive' });
      expect(err.at - at).toBeLessThanOrEqual(TIMEOUT + SLACK_MS);
    }
    // Published on the worker's own tcp-vitals:death channel, for its own socket.
    await client.waitFor((m) => m.type === 'death' && m.thread === workerUp.thread && m.same === true, 2000);
    expect(client.messages.filter((m) => m.type === 'worker-error')).toEqual([]);
    client.kill();
    peer.kill();
  }, 40_000);
});
