/**
 * watch() under hostile use (issue 13 items 3 and 4): a listener that throws
 * never makes an event repeat, and 'tcp-vitals:dead' is never emitted on a
 * socket failFast already destroyed. Loopback, a network namespace for real
 * retransmissions, and the controller driven by synthetic readings.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { SocketWatcher } from '../lib/policy/watch';
import { fdOf } from '../lib/kernel/fd';
import { Scheduler } from '../lib/runtime/scheduler';
import { loopbackPair } from './helpers/loopback';
import { FakeBinding, FakeClock } from './helpers/fake-binding';
import { ADDR_B, describeNetns, fixture, NetPair } from './helpers/netns';

const DIST = join(__dirname, '..', 'dist');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function runNode(code: string): { status: number | null; out: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, out: JSON.parse(r.stdout.trim().split('\n').pop() || '{}'), stderr: r.stderr };
}


/** A child script prelude: \`pairs(n, cb)\` gives n paused, connected clients with their server-side peers. */
const PAIRS = `
  const net = require('net');
  function pairs(n, cb) {
    const peers = [], clients = [];
    let ready = 0;
    const srv = net.createServer((p) => { p.on('error', () => {}); peers.push(p); if (++ready === 2 * n) cb(clients, peers); });
    srv.listen(0, '127.0.0.1', () => {
      for (let i = 0; i < n; i++) {
        const c = net.connect(srv.address().port, '127.0.0.1', () => { c.pause(); if (++ready === 2 * n) cb(clients, peers); });
        clients.push(c);
      }
    });
  }`;

test("a throwing 'tcp-vitals:dead' listener: dead once, and the watcher is stopped", () => {
  const { status, out } = runNode(`${PAIRS}
    const { watch } = require(${JSON.stringify(join(DIST, 'policy', 'watch'))});
    let uncaught = 0, dead = 0, onWatcher = 0;
    process.on('uncaughtException', () => { uncaught++; });
    pairs(1, ([c], [peer]) => {
      c.on('error', () => {});
      const w = watch(c, { interval: 20 });
      c.on('tcp-vitals:dead', () => { dead++; throw new Error('listener bug'); });
      w.on('dead', () => { onWatcher++; });
      peer.resetAndDestroy();
      setTimeout(() => { console.log(JSON.stringify({ dead, onWatcher, uncaught, active: w.active })); process.exit(0); }, 800);
    });`);
  expect(status).toBe(0);
  expect(out).toEqual({ dead: 1, onWatcher: 1, uncaught: 1, active: false });
});

test('failFast and watch on one socket: no tcp-vitals:dead on a socket failFast already destroyed', async () => {
  const { status, out } = runNode(`${PAIRS}
    const { watch } = require(${JSON.stringify(join(DIST, 'policy', 'watch'))});
    const { failFast } = require(${JSON.stringify(join(DIST, 'policy', 'failfast'))});
    let errors = 0, deadOnDestroyed = 0, deadOnLive = 0;
    const finish = () => { console.log(JSON.stringify({ errors, deadOnDestroyed, deadOnLive })); process.exit(0); };
    pairs(10, (clients, peers) => {
      for (const c of clients) {
        failFast(c, { timeout: 2000, pollInterval: 50 });
        watch(c, { interval: 50 });
        c.on('tcp-vitals:dead', () => { if (c.destroyed) deadOnDestroyed++; else deadOnLive++; });
        c.on('error', () => { errors++; });
      }
      for (const p of peers) p.resetAndDestroy();
      setTimeout(finish, 1500);
    });`);
  expect(status).toBe(0);
  expect(out.errors).toBe(10);
  expect(out.deadOnDestroyed).toBe(0);
});

test('the controller with synthetic readings: a throwing retransmit listener never repeats the event', async () => {
  const pair = await loopbackPair();
  const { client, peer } = pair;
  peer.on('error', () => {});
  peer.on('data', () => {});
  try {
    const binding = new FakeBinding();
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const scheduler = new Scheduler({ binding, clock: clock.now, onError: (e) => errors.push(e) });
    const fd = fdOf(client);
    const w = new SocketWatcher(client, { stallAfter: 60_000, sampleEvery: 0, pollEvery: 250 }, { scheduler });
    const seen: number[] = [];
    client.on('tcp-vitals:retransmit', (e) => { seen.push(e.retransmits); throw new Error('listener bug'); });
    const onWatcher: number[] = [];
    w.on('retransmit', (e) => onWatcher.push(e.retransmits));
    const bad = { sendQueue: 100, fields: { unacked: 1, rto: 400_000 } };
    for (const retransmits of [1, 1, 1, 2, 2, 2, 3, 3]) {
      binding.readings.set(fd, { ...bad, fields: { ...bad.fields, retransmits } });
      clock.advance(250);
      scheduler.runOnce(true);
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(onWatcher).toEqual([1, 2, 3]);
    expect(errors).toHaveLength(3);
    binding.readings.set(fd, { state: 7 });
    scheduler.runOnce(true);
    scheduler.runOnce(true);
    expect(w.active).toBe(false);
    expect(scheduler.size).toBe(0);
  } finally {
    await pair.close();
  }
});

describeNetns('watch() with throwing listeners against a real vanish', () => {
  let pair: NetPair;
  afterEach(() => pair?.destroy());

  test("throwing 'retransmit' and 'dead' listeners: one event per RTO step, one dead", async () => {
    pair = NetPair.create();
    pair.sysctl(pair.a, 'net.ipv4.tcp_retries2', 3);
    const peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, '7000']);
    await peer.waitFor((m) => m.type === 'listening', 10_000);
    const opts = { pause: true, interval: 20, throwOn: ['tcp-vitals:retransmit', 'tcp-vitals:dead'] };
    const client = pair.spawnNode(pair.a, fixture('watch-client.js'), [ADDR_B, '7000', JSON.stringify(opts)]);
    await client.waitFor((m) => m.type === 'connected', 10_000);
    pair.vanish();
    client.send({ cmd: 'write' });
    await client.waitFor((m) => m.name === 'tcp-vitals:dead', 20_000);
    await sleep(300); // ticks that would repeat 'dead'
    client.send({ cmd: 'status' });
    const status = await client.waitFor((m) => m.type === 'status', 5_000);
    const events = client.messages.filter((m) => m.type === 'event');
    const retransmits = events.filter((m) => m.name === 'tcp-vitals:retransmit').map((m) => m.retransmits);
    expect(retransmits.length).toBeGreaterThanOrEqual(2);
    expect(retransmits.length).toBeLessThanOrEqual(4); // tcp_retries2 = 3: at most 4 RTO steps
    for (let i = 1; i < retransmits.length; i++) expect(retransmits[i]).toBeGreaterThan(retransmits[i - 1]);
    expect(events.filter((m) => m.name === 'tcp-vitals:dead')).toHaveLength(1);
    expect(status).toMatchObject({ active: false, uncaught: retransmits.length + 1 });
  }, 40_000);
});
