/**
 * watch(): events on real sockets. Loopback for samples, lifecycle and
 * validation; child processes for "never keeps the process alive" and the
 * reused-fd (ESTALE) path; network namespaces for a real vanish (retransmit
 * then dead) and a heal (stall/retransmit then recovered).
 */
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import { fdOf } from '../lib/kernel/fd';
import { tcpInfo } from '../lib/kernel/tcpinfo';
import { SampleEvent, watch, WATCH_EVENTS } from '../lib/policy/watch';
import { ADDR_B, describeNetns, fixture, NetPair } from './helpers/netns';

const DIST = join(__dirname, '..', 'dist');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function loopbackPair(): Promise<{ server: net.Server; client: net.Socket; peer: net.Socket }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const accepted = once(server, 'connection');
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = (await accepted) as [net.Socket];
  peer.on('data', () => {});
  return { server, client, peer };
}

function runNode(code: string, timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', code], { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr, ms: Date.now() - t });
    });
  });
}

describe('watch() on loopback', () => {
  let pair: Awaited<ReturnType<typeof loopbackPair>>;
  beforeEach(async () => { pair = await loopbackPair(); });
  afterEach(() => { pair.client.destroy(); pair.peer.destroy(); pair.server.close(); });

  test('sample events carry plausible tcp_info and queue fields', async () => {
    const samples: SampleEvent[] = [];
    pair.client.on(WATCH_EVENTS.sample, (e: SampleEvent) => samples.push(e));
    const w = watch(pair.client, { interval: 20, sample: true });
    pair.client.write(Buffer.alloc(100_000, 1));
    for (let i = 0; i < 500 && samples.length < 5; i++) await sleep(20); // bounded: 10 s on a busy machine
    w.stop();
    expect(samples.length).toBeGreaterThanOrEqual(5);
    for (const s of samples) {
      expect(s.info.state).toBe('ESTABLISHED');
      expect(s.info.rtt).toBeGreaterThan(0);
      expect(s.info.sndCwnd).toBeGreaterThan(0);
      expect(s.info.rto).toBeGreaterThanOrEqual(200_000);
      expect(s.sendQueue).toBeGreaterThanOrEqual(s.unsent);
      expect(s.unacknowledgedBytes).toBeGreaterThanOrEqual(0);
      expect(s.unacknowledgedBytes).toBeLessThanOrEqual(100_000);
      expect(s.giveUp).toBeNull();
    }
    // Everything is acknowledged in the end, and the counters saw the bytes.
    const last = samples[samples.length - 1];
    expect(last.info.bytesAcked).toBeGreaterThan(0);
  });

  test('sample as a number: one event per that many ms, even with a slower interval', async () => {
    let n = 0;
    pair.client.on(WATCH_EVENTS.sample, () => { n++; });
    const started = performance.now();
    const w = watch(pair.client, { interval: 5000, sample: 50 });
    // Wait for the events rather than for a fixed time (a busy machine fires timers late), bounded.
    for (let i = 0; i < 500 && n < 4; i++) await sleep(20);
    const elapsed = performance.now() - started;
    w.stop();
    expect(n).toBeGreaterThanOrEqual(4); // many before the 5 s interval would have given one
    // Never more often than every 50 ms (late timers only make them fewer).
    expect(n).toBeLessThanOrEqual(Math.floor(elapsed / 50) + 1);
  });

  test('stop() ends events at once; no retransmit/stall/dead on a healthy connection', async () => {
    const seen: string[] = [];
    for (const name of Object.values(WATCH_EVENTS)) pair.client.on(name, () => seen.push(name));
    const w = watch(pair.client, { interval: 10, sample: true });
    for (let i = 0; i < 500 && seen.length < 3; i++) await sleep(20); // bounded wait for events
    w.stop();
    expect(w.active).toBe(false);
    const count = seen.length;
    expect(count).toBeGreaterThan(0);
    await sleep(100);
    expect(seen.length).toBe(count);
    expect(seen).not.toContain(WATCH_EVENTS.dead);
    // Loopback loses packets only when the per-CPU backlog overflows (a busy
    // machine); then a retransmit event is the truth. Loss-free: samples only.
    if (tcpInfo(pair.client).totalRetrans === 0) expect(seen.every((n) => n === WATCH_EVENTS.sample)).toBe(true);
  });

  test("the socket's close stops the watcher", async () => {
    let n = 0;
    pair.client.on(WATCH_EVENTS.sample, () => { n++; });
    const w = watch(pair.client, { interval: 10, sample: true });
    await sleep(60);
    pair.client.destroy();
    await once(pair.client, 'close');
    expect(w.active).toBe(false);
    const count = n;
    await sleep(100);
    expect(n).toBe(count);
  });

  test('a socket still connecting is watched from its connect', async () => {
    const { port } = pair.server.address() as net.AddressInfo;
    const s = net.connect(port, '127.0.0.1');
    try {
      expect(s.connecting).toBe(true);
      const first = once(s, WATCH_EVENTS.sample);
      const w = watch(s, { interval: 10, sample: true });
      const [e] = (await first) as [SampleEvent];
      expect(e.info.state).toBe('ESTABLISHED');
      w.stop();
    } finally {
      s.destroy();
    }
  });

  test('bad arguments: Node error codes', () => {
    const c = pair.client;
    expect(() => watch({} as net.Socket)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => watch(c, null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => watch(c, { interval: 5 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => watch(c, { interval: 10.5 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => watch(c, { interval: '100' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => watch(c, { stallAfter: 0 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => watch(c, { sample: 'yes' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => watch(c, { sample: 3 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => watch(new net.Socket())).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_NOT_CONNECTED' }));
    const dead = new net.Socket();
    dead.destroy();
    expect(() => watch(dead)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_CLOSED' }));
  });

  test('a destroyed socket whose fd number is reused is never read: no event for it', async () => {
    const { port } = pair.server.address() as net.AddressInfo;
    const seen: string[] = [];
    const c = pair.client;
    const fd = fdOf(c);
    for (const name of Object.values(WATCH_EVENTS)) c.on(name, () => seen.push(name));
    watch(c, { interval: 10, sample: true });
    await sleep(50);
    c.destroy();
    const before = seen.length;
    const others: net.Socket[] = [];
    try {
      let reused = false;
      for (let i = 0; i < 20 && !reused; i++) {
        const s = net.connect(port, '127.0.0.1');
        others.push(s);
        await once(s, 'connect');
        reused = fdOf(s) === fd;
      }
      expect(reused).toBe(true);
      await sleep(100);
      expect(seen.length).toBe(before);
    } finally {
      for (const s of others) s.destroy();
    }
  });
});

describe('watch() in a child process', () => {
  test('never keeps the process alive', async () => {
    const r = await runNode(`
      const net = require('net'); const { watch } = require(${JSON.stringify(join(DIST, 'policy', 'watch'))});
      const srv = net.createServer((s) => { s.resume(); s.unref(); }).listen(0, '127.0.0.1', () => {
        const c = net.connect(srv.address().port, '127.0.0.1', () => {
          let samples = 0;
          watch(c, { interval: 10, sample: true });
          c.on('tcp-vitals:sample', () => { samples++; });
          c.unref(); srv.unref();
          // The only thing holding the process is this 200 ms timer; after it, the watcher must let go.
          setTimeout(() => console.log(samples > 0 ? 'watched' : 'no samples'), 200);
        });
      });`);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('watched');
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(5000);
  });

  test('an fd reused behind Node\'s back is detected by SO_COOKIE (ESTALE) and never read as the old socket', async () => {
    // The fd is closed under libuv (the socket is not "destroyed" for Node),
    // then another socket (UDP, bound without polling so libuv stays calm)
    // takes the same number: only the cookie can tell them apart.
    const r = await runNode(`
      const net = require('net'); const fs = require('fs'); const dgram = require('dgram');
      const { watch } = require(${JSON.stringify(join(DIST, 'policy', 'watch'))});
      const { fdOf } = require(${JSON.stringify(join(DIST, 'kernel', 'fd'))});
      const srv = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
        const a = net.connect(srv.address().port, '127.0.0.1', () => {
          let events = 0;
          for (const n of ['sample', 'retransmit', 'stall', 'recovered', 'dead']) a.on('tcp-vitals:' + n, () => events++);
          const w = watch(a, { interval: 10, sample: true });
          setTimeout(() => {
            const before = events, fd = fdOf(a), oldLink = fs.readlinkSync('/proc/self/fd/' + fd);
            a.pause();
            fs.closeSync(fd);
            const u = dgram.createSocket('udp4');
            u.bind(0, '127.0.0.1', () => {
              let newLink = null;
              try { newLink = fs.readlinkSync('/proc/self/fd/' + fd); } catch {}
              const same = newLink !== null && newLink.startsWith('socket:') && newLink !== oldLink;
              setTimeout(() => {
                console.log(JSON.stringify({ same, before, after: events, stoppedBy: w.stoppedBy, active: w.active }));
                process.exit(0);
              }, 100);
            });
          }, 60);
        });
      });`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
    expect(out.same).toBe(true);
    expect(out.before).toBeGreaterThan(0);
    expect(out.after).toBe(out.before);
    expect(out.stoppedBy).toBe('ESTALE');
    expect(out.active).toBe(false);
  });
});

describeNetns('watch() against a real vanish and heal', () => {
  let pair: NetPair;
  afterEach(() => pair?.destroy());

  test('vanish with the socket paused: retransmit events with a prediction, then dead', async () => {
    pair = NetPair.create();
    pair.sysctl(pair.a, 'net.ipv4.tcp_retries2', 3);
    const peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, '7000']);
    await peer.waitFor((m) => m.type === 'listening', 10_000);
    const client = pair.spawnNode(pair.a, fixture('watch-client.js'), [ADDR_B, '7000', JSON.stringify({ pause: true, interval: 20 })]);
    const connected = await client.waitFor((m) => m.type === 'connected', 10_000);
    expect(connected.active).toBe(true);
    pair.vanish();
    client.send({ cmd: 'write' });
    const dead = await client.waitFor((m) => m.name === 'tcp-vitals:dead', 20_000);
    const events = client.messages.filter((m) => m.type === 'event');
    const retransmits = events.filter((m) => m.name === 'tcp-vitals:retransmit');
    expect(retransmits.length).toBeGreaterThanOrEqual(2);
    // retransmits grow, each event carries the model's give-up window, and that window holds the death
    for (let i = 1; i < retransmits.length; i++) expect(retransmits[i].retransmits).toBeGreaterThan(retransmits[i - 1].retransmits);
    for (const r of retransmits) {
      expect(r.giveUp).not.toBeNull();
      // The kernel's verdict lies in (aliveMs, dead.atMs]: the last reading that saw the
      // connection alive and the one that saw it dead, true however late a poll runs.
      expect(r.atMs + r.giveUp.earliestMs).toBeLessThanOrEqual(dead.atMs + 40);
      expect(r.atMs + r.giveUp.latestMs).toBeGreaterThanOrEqual(dead.aliveMs - 40);
    }
    expect(events.some((m) => m.name === 'tcp-vitals:stall')).toBe(true);
    expect(dead.reason).toBe('retransmit');
    expect(dead.state).toBe('CLOSE');
    expect(dead.unacknowledgedBytes).toBe(20_000);
    expect(events.some((m) => m.name === 'tcp-vitals:recovered')).toBe(false);
    expect(events.indexOf(dead)).toBe(events.length - 1);
    // The paused socket never heard from Node: no 'error' (that is why 'dead' exists).
    expect(client.messages.some((m) => m.type === 'error')).toBe(false);
    client.send({ cmd: 'status' });
    const status = await client.waitFor((m) => m.type === 'status', 5_000);
    expect(status.active).toBe(false);
  }, 40_000);

  test('a partition that heals: stall and retransmit, then recovered, no dead', async () => {
    pair = NetPair.create();
    const peer = pair.spawnNode(pair.b, fixture('echo-peer.js'), [ADDR_B, '7000']);
    await peer.waitFor((m) => m.type === 'listening', 10_000);
    const client = pair.spawnNode(pair.a, fixture('watch-client.js'), [ADDR_B, '7000', JSON.stringify({ interval: 20, stallAfter: 300 })]);
    await client.waitFor((m) => m.type === 'connected', 10_000);
    pair.vanish();
    client.send({ cmd: 'write' });
    await client.waitFor((m) => m.name === 'tcp-vitals:stall', 10_000);
    const retransmit = await client.waitFor((m) => m.name === 'tcp-vitals:retransmit' && m.retransmits >= 2, 10_000);
    expect(retransmit.giveUp.decidedBy).toBe('retries2');
    pair.heal();
    const recovered = await client.waitFor((m) => m.name === 'tcp-vitals:recovered', 15_000);
    expect(recovered.durationMs).toBeGreaterThan(300);
    expect(recovered.unacknowledgedBytes).toBe(0);
    peer.send({ cmd: 'stats' });
    const stats = await peer.waitFor((m) => m.type === 'stats', 5_000);
    expect(stats.received).toBe(20_000);
    const names = client.messages.filter((m) => m.type === 'event').map((m) => m.name);
    expect(names).not.toContain('tcp-vitals:dead');
    expect(client.messages.some((m) => m.type === 'error')).toBe(false);
  }, 40_000);
});
