/**
 * delivery(), acked() and retain() against the real kernel: loopback for the
 * closed-window and reset cases, two namespaces for a vanished peer.
 */
import { getEventListeners } from 'node:events';
import * as net from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { acked, delivery, retain, retainedUnacknowledged, retention } from '../lib/policy/delivery';
import { scheduler } from '../lib/runtime/scheduler';
import { tcpInfo } from '../lib/kernel/tcpinfo';
import { loopbackPair, LoopbackPair, sleep, waitUntil } from './helpers/loopback';
import { ADDR_A, ADDR_B, describeNetns, fixture, NetPair } from './helpers/netns';

const { patternAt, firstMismatch } = require('./fixtures/delivery-pattern.js') as {
  patternAt(offset: number, length: number): Buffer;
  firstMismatch(buf: Buffer, offset: number): number;
};

const MB = 1024 * 1024;

/**
 * A loopback pair whose server end does not read (pauseOnConnect): its
 * receive buffer (about 128 KB here) fills and the window closes. (A tiny
 * SO_RCVBUF would close it sooner, but on loopback's 64 KB MSS the transfer
 * then crawls at persist-timer pace even after the reader resumes.)
 */
async function stalledPair(): Promise<LoopbackPair> {
  return loopbackPair({ serverOptions: { pauseOnConnect: true } });
}

/** Settles-state of a promise without awaiting it. */
function track<T>(p: Promise<T>): { settled: () => boolean; value: () => unknown } {
  let settled = false;
  let value: unknown;
  p.then((v) => { settled = true; value = v; }, (e) => { settled = true; value = e; });
  return { settled: () => settled, value: () => value };
}

describe('delivery() and acked() on loopback', () => {
  let pair: LoopbackPair | null = null;
  afterEach(async () => { await pair?.close(); pair = null; });

  test('acked() waits while the peer\'s window is closed and resolves once it reads', async () => {
    pair = await stalledPair();
    const { client, peer } = pair;
    client.write(Buffer.alloc(4 * MB, 1));
    const waiting = track(acked(client));
    await sleep(1500);
    expect(waiting.settled()).toBe(false);
    const stalled = delivery(client);
    expect(stalled.written).toBe(4 * MB);
    expect(stalled.acknowledged).toBeLessThan(4 * MB);
    expect(stalled.acknowledged + stalled.inKernel + stalled.inUserland).toBe(4 * MB);
    // The window really is closed: the receiver's queue is full and nothing is in flight.
    expect(tcpInfo(client).sndWnd).toBe(0);

    let received = 0;
    peer.on('data', (d: Buffer) => { received += d.length; });
    peer.resume();
    await acked(client, { timeout: 20_000 });
    // Acknowledged by the peer's kernel; its application reads shortly after.
    const done = delivery(client);
    expect(done).toEqual({ written: 4 * MB, acknowledged: 4 * MB, inKernel: 0, inUserland: 0 });
    await waitUntil(() => received === 4 * MB, 10_000, 'the peer to read everything');
  });

  test('delivery() matches bytesAcked on both ends (the SYN counts on the connecting side only)', async () => {
    pair = await loopbackPair();
    const { client, peer } = pair;
    client.resume();
    peer.resume();
    client.write(Buffer.alloc(200_000, 2));
    peer.write(Buffer.alloc(50_000, 3));
    await Promise.all([acked(client), acked(peer)]);
    expect(delivery(client)).toEqual({ written: 200_000, acknowledged: 200_000, inKernel: 0, inUserland: 0 });
    expect(delivery(peer)).toEqual({ written: 50_000, acknowledged: 50_000, inKernel: 0, inUserland: 0 });
    expect(tcpInfo(client).bytesAcked).toBe(200_001);
    expect(tcpInfo(peer).bytesAcked).toBe(50_000);
  });

  test('after end() the queued FIN is not counted as an unacknowledged byte', async () => {
    pair = await stalledPair();
    const { client, peer } = pair;
    client.end(Buffer.alloc(MB, 4));
    await waitUntil(() => client.writableFinished, 10_000, 'the FIN to be queued');
    const d = delivery(client);
    expect(tcpInfo(client).state).toBe('FIN_WAIT1');
    expect(d.acknowledged + d.inKernel + d.inUserland).toBe(MB);
    expect(d.inUserland).toBe(0);
    let received = 0;
    peer.on('data', (b: Buffer) => { received += b.length; });
    peer.resume();
    // Resolves although the FIN itself may still be unacknowledged (or the
    // socket already closed by the peer's FIN: then from the final reading).
    await acked(client, { timeout: 20_000 });
    await waitUntil(() => received === MB, 10_000, 'the peer to read everything');
  });

  test('thousands of waits on one socket, and many sockets, share one registration per socket', async () => {
    const before = scheduler.size;
    pair = await stalledPair();
    const { client, peer } = pair;
    client.write(Buffer.alloc(2 * MB, 5));
    const waits = Array.from({ length: 3000 }, () => acked(client));
    expect(scheduler.size).toBe(before + 1);

    const others: LoopbackPair[] = [];
    try {
      for (let i = 0; i < 20; i++) others.push(await stalledPair());
      const more = others.flatMap((p) => { p.client.write(Buffer.alloc(MB, 6)); return Array.from({ length: 50 }, () => acked(p.client)); });
      expect(scheduler.size).toBe(before + 21);
      peer.resume();
      for (const p of others) p.peer.resume();
      await Promise.all([...waits, ...more]);
      await waitUntil(() => scheduler.size === before, 2000, 'registrations to be removed');
    } finally {
      for (const p of others) await p.close();
    }
  });

  test('20,000 waits sharing one AbortSignal: one abort listener, and abort() settles them all in one pass', async () => {
    pair = await stalledPair();
    const { client } = pair;
    client.write(Buffer.alloc(4 * MB, 1)); // never acknowledged: the peer does not read
    const registered = scheduler.size;
    const controller = new AbortController();
    const N = 20_000;
    const started = performance.now();
    const waits = Array.from({ length: N }, () => acked(client, { signal: controller.signal }).then(() => 'resolved', (e) => e.code));
    const queuedMs = performance.now() - started;
    expect(getEventListeners(controller.signal, 'abort').length).toBe(1);
    const aborting = performance.now();
    controller.abort();
    const abortMs = performance.now() - aborting; // the loop is blocked for this long
    const codes = await Promise.all(waits);
    expect(codes.filter((c) => c === 'ABORT_ERR').length).toBe(N);
    // Generous bounds (quadratic before: ~2.6 s to queue and ~2.9 s to abort for
    // 20,000 on this machine, growing with N²; the bench has the real numbers).
    expect({ queuedMs: queuedMs < 20_000, abortMs: abortMs < 20_000 }).toEqual({ queuedMs: true, abortMs: true });
    expect(scheduler.size).toBe(registered);
  });

  test('an acknowledged socket resolves at once without registering', async () => {
    pair = await loopbackPair();
    const { client } = pair;
    client.write('x');
    await acked(client);
    const before = scheduler.size;
    const p = acked(client);
    expect(scheduler.size).toBe(before);
    await p;
  });

  test('timeout and signal reject with AbortError and leave the connection alone', async () => {
    pair = await stalledPair();
    const { client } = pair;
    client.write(Buffer.alloc(4 * MB, 7));
    const timedOut = await acked(client, { timeout: 200 }).catch((e) => e);
    expect(timedOut).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(timedOut.cause).toMatchObject({ name: 'TimeoutError' });
    expect(timedOut.unacknowledgedBytes).toBe(4 * MB - delivery(client).acknowledged);

    const controller = new AbortController();
    const waiting = acked(client, { signal: controller.signal });
    const reason = new Error('caller gave up');
    controller.abort(reason);
    const aborted = await waiting.catch((e) => e);
    expect(aborted).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(aborted.cause).toBe(reason);
    expect(aborted.unacknowledgedBytes).toBeGreaterThan(0);

    const already = await acked(client, { signal: AbortSignal.abort('no') }).catch((e) => e);
    expect(already).toMatchObject({ code: 'ABORT_ERR', cause: 'no' });
    expect(client.destroyed).toBe(false);
  });

  test('a peer reset rejects with a PeerGoneError counting exactly the unacknowledged bytes', async () => {
    pair = await stalledPair();
    const { client, peer } = pair;
    client.on('error', () => {});
    client.write(Buffer.alloc(3 * MB, 8));
    await sleep(300);
    const waiting = acked(client);
    const before = delivery(client); // the window is closed: nothing moves any more
    expect(before.acknowledged).toBeLessThan(3 * MB);
    peer.resetAndDestroy();
    const err = await waiting.catch((e) => e);
    expect(err).toMatchObject({ code: 'ETIMEDOUT', reason: 'kernel' });
    expect(err.unacknowledgedBytes).toBe(3 * MB - before.acknowledged);
    if (err.cause) expect(['ECONNRESET', 'EPIPE']).toContain(err.cause.code);
  });

  test('the application closing the socket early rejects with ERR_SOCKET_CLOSED', async () => {
    pair = await stalledPair();
    const { client } = pair;
    client.write(Buffer.alloc(2 * MB, 9));
    await sleep(100);
    const waiting = acked(client);
    client.destroy();
    const err = await waiting.catch((e) => e);
    expect(err.code).toBe('ERR_SOCKET_CLOSED');
    expect(err.unacknowledgedBytes).toBeGreaterThan(0);
    expect(err.unacknowledgedBytes).toBeLessThanOrEqual(2 * MB);
  });

  test('acked() issued while connecting waits for the connection', async () => {
    const server = net.createServer((s) => s.resume());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    try {
      client.write(Buffer.alloc(100_000, 1));
      expect(client.connecting).toBe(true);
      expect(delivery(client)).toEqual({ written: 100_000, acknowledged: 0, inKernel: 0, inUserland: 100_000 });
      await acked(client, { timeout: 10_000 });
      expect(delivery(client).acknowledged).toBe(100_000);
    } finally {
      client.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  test('bad arguments and states give Node-shaped errors', async () => {
    pair = await loopbackPair();
    await expect(acked(42 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(acked(pair.client, { timeout: -1 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(acked(pair.client, { timeout: 1.5 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(acked(pair.client, { signal: {} as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(() => delivery({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => retain(pair!.client, { maxRetainedBytes: 0 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    // Options are own properties only (a polluted or inherited key is not an option).
    const other = await loopbackPair();
    try {
      retain(other.client, Object.create({ maxRetainedBytes: 5 }));
      expect(retention(other.client)!.maxRetainedBytes).toBe(16 * 1024 * 1024);
      await expect(acked(other.client, Object.create({ timeout: 0, signal: 'bogus' }))).resolves.toBeUndefined();
    } finally {
      await other.close();
    }
    pair.client.write('x');
    expect(() => retain(pair!.client)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    pair.client.destroy();
    expect(() => delivery(pair!.client)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_CLOSED' }));
    await expect(acked(pair.client)).rejects.toMatchObject({ code: 'ERR_SOCKET_CLOSED' });
  });
});

describe('retain() on loopback', () => {
  let pair: LoopbackPair | null = null;
  afterEach(async () => { await pair?.close(); pair = null; });

  test('holds exactly the unacknowledged suffix, Node\'s buffer included, and releases it on ACK', async () => {
    pair = await stalledPair();
    const { client, peer } = pair;
    retain(client);
    let written = 0;
    const write = (n: number) => { client.write(patternAt(written, n)); written += n; };
    for (let i = 0; i < 40; i++) write(100_003); // odd sizes: chunk boundaries fall anywhere
    client.cork(); write(7); write(70_000); client.uncork(); // a _writev batch
    client.write('abc', 'latin1'); written += 3; // a string chunk
    await sleep(500);
    const d = delivery(client);
    expect(d.inUserland).toBeGreaterThan(0);
    const suffix = retainedUnacknowledged(client)!;
    expect(suffix.length).toBe(written - d.acknowledged);
    expect(firstMismatch(suffix.subarray(0, suffix.length - 3), d.acknowledged)).toBe(-1);
    expect(suffix.subarray(-3).toString('latin1')).toBe('abc');
    expect(retention(client)).toMatchObject({ complete: true, overflows: 0 });

    peer.on('data', () => {});
    peer.resume();
    await acked(client, { timeout: 20_000 });
    await sleep(150);
    expect(retention(client)).toMatchObject({ retainedBytes: 0, complete: true });
    expect(retainedUnacknowledged(client)!.length).toBe(0);
  });

  test('past maxRetainedBytes the suffix is reported incomplete, never wrong, and recovers', async () => {
    pair = await stalledPair();
    const { client, peer } = pair;
    retain(client, { maxRetainedBytes: 256 * 1024 });
    let written = 0;
    for (let i = 0; i < 16; i++) { client.write(patternAt(written, 65536)); written += 65536; }
    await sleep(300);
    expect(retention(client)).toMatchObject({ complete: false });
    expect(retention(client)!.overflows).toBeGreaterThan(0);
    expect(retainedUnacknowledged(client)).toBeUndefined();

    peer.on('data', () => {});
    peer.resume();
    await acked(client, { timeout: 20_000 });
    expect(retention(client)).toMatchObject({ complete: true });
    // Newly written bytes are retained again, exactly.
    peer.pause();
    await sleep(50);
    const from = written;
    for (let i = 0; i < 2; i++) { client.write(patternAt(written, 50_000)); written += 50_000; }
    const suffix = retainedUnacknowledged(client)!;
    expect(suffix).toBeDefined();
    const ack = written - suffix.length;
    expect(ack).toBeGreaterThanOrEqual(from);
    expect(firstMismatch(suffix, ack)).toBe(-1);
  });

  test('a TLS socket is refused by delivery() and retain(); acked() works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tv-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
        '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      const key = readFileSync(join(dir, 'k.pem'));
      const cert = readFileSync(join(dir, 'c.pem'));
      let serverSide: tls.TLSSocket | null = null;
      const server = tls.createServer({ key, cert }, (s) => { serverSide = s; s.pause(); });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const client = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', ca: cert, servername: 'localhost' });
      try {
        await new Promise<void>((r, j) => { client.once('secureConnect', r); client.once('error', j); });
        expect(() => delivery(client)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
        expect(() => retain(client)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
        await waitUntil(() => serverSide !== null, 5000, 'the TLS server side');
        client.write(Buffer.alloc(4 * MB, 1));
        const waiting = track(acked(client));
        await sleep(1000);
        expect(waiting.settled()).toBe(false);
        serverSide!.on('data', () => {});
        serverSide!.resume();
        await acked(client, { timeout: 20_000 });
      } finally {
        client.destroy();
        (serverSide as tls.TLSSocket | null)?.destroy();
        await new Promise((r) => server.close(r));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeNetns('delivery when the peer vanishes (netns)', () => {
  const USER_TIMEOUT = 3000;
  const WARM = 300_000;
  const MORE = 3 * MB;
  let pair: NetPair | null = null;
  afterEach(() => { pair?.destroy(); pair = null; });

  /** Runs the delivery-client fixture against delivery-peer, applies `cut` after the warm-up. */
  async function vanishRun(cut: (p: NetPair) => void, mode = 'user-timeout', more = MORE, peerSends = 0): Promise<{ result: any; stats: any }> {
    pair = NetPair.create();
    const peer = pair.spawnNode(pair.b, fixture('delivery-peer.js'), [ADDR_B, '7301', String(peerSends)]);
    await peer.waitFor((m) => m.type === 'listening', 10_000);
    const client = pair.spawnNode(pair.a, fixture('delivery-client.js'), [ADDR_B, '7301', String(USER_TIMEOUT), String(WARM), mode]);
    const warm = await client.waitFor((m) => m.type === 'warm', 15_000);
    expect(warm.written).toBe(WARM);
    cut(pair);
    client.send({ cmd: 'write', bytes: more });
    const result = await client.waitFor((m) => m.type === 'result', 30_000);
    peer.send({ cmd: 'stats' });
    const stats = await peer.waitFor((m) => m.type === 'stats', 5000);
    return { result, stats };
  }

  /** What both runs must show: a death error with the right count, and the exact suffix retained. */
  function expectExactSuffix(result: any, stats: any, reason = 'kernel'): number {
    const written = WARM + MORE;
    expect(result.written).toBe(written);
    expect(result.bytesWritten).toBe(written);
    // acked() rejected because the connection died (the kernel's ETIMEDOUT under TCP_USER_TIMEOUT) ...
    expect(result.ackedError).toMatchObject({ code: 'ETIMEDOUT', reason });
    if (result.ackedError.causeCode) expect(result.ackedError.causeCode).toBe('ETIMEDOUT');
    // ... within the user timeout plus the last RTO and polling slack
    expect(result.rejectedAfterMs).toBeLessThan(USER_TIMEOUT + 3000);
    // The socket's own error carries the retained suffix, byte for byte.
    expect(result.socketError).toMatchObject({ code: 'ETIMEDOUT', retainedMismatch: -1 });
    if (reason !== 'kernel') expect(result.sameError).toBe(true);
    const unacknowledged = result.ackedError.unacknowledgedBytes;
    expect(unacknowledged).toBeGreaterThan(0);
    expect(result.socketError.retainedLength).toBe(unacknowledged);
    expect(result.socketError.unacknowledgedBytes).toBe(unacknowledged);
    expect(result.postMortemLength).toBe(unacknowledged);
    expect(result.postMortemMatchesError).toBe(true);
    // Never claims delivery of bytes the peer did not receive; the peer saw an exact prefix.
    expect(stats.mismatchAt).toBe(-1);
    expect(written - unacknowledged).toBeLessThanOrEqual(stats.received);
    expect(written - unacknowledged).toBeGreaterThanOrEqual(WARM);
    return unacknowledged;
  }

  test('peer drops everything: acked() rejects with the unacknowledged count, the retained suffix is exact', async () => {
    const { result, stats } = await vanishRun((p) => p.vanish());
    const unacknowledged = expectExactSuffix(result, stats);
    // Nothing written after the cut reached the peer: the suffix is all of it.
    expect(stats.received).toBe(WARM);
    expect(unacknowledged).toBe(MORE);
  }, 60_000);

  test('peer receives but its ACKs are lost (blackhole route): at-least-once, the suffix still exact', async () => {
    const { result, stats } = await vanishRun((p) => p.exec(p.b, 'ip', ['route', 'add', 'blackhole', `${ADDR_A}/32`]));
    const unacknowledged = expectExactSuffix(result, stats);
    // The peer holds bytes the sender never saw acknowledged: they are in the suffix too.
    expect(stats.received).toBeGreaterThan(WARM + MORE - unacknowledged);
  }, 60_000);

  test('with failFast: acked() rejects with failFast\'s own error, which carries the retained suffix', async () => {
    const { result, stats } = await vanishRun((p) => p.vanish(), 'failfast');
    const unacknowledged = expectExactSuffix(result, stats, 'retransmit');
    expect(unacknowledged).toBe(MORE);
  }, 60_000);

  test('Node not reading and not writing: acked() still rejects once tcp_info shows the kernel closed it', async () => {
    // The peer sends 256 KB nobody reads: Node fills its read buffer (64 KB
    // high-water mark here) and stops polling the fd. 8 KB written after the cut fit in the kernel, so Node is
    // not writing either: only the scheduler's tcp_info reading sees the death.
    const small = 8192;
    const { result } = await vanishRun((p) => p.vanish(), 'user-timeout', small, 256 * 1024);
    expect(result.socketError).toBeNull();
    expect(result.destroyed).toBe(false);
    expect(result.readableLength).toBeGreaterThan(0);
    expect(result.ackedError).toMatchObject({ code: 'ETIMEDOUT', reason: 'kernel', unacknowledgedBytes: small });
    expect(result.ackedError.causeCode).toBeUndefined();
    expect(result.rejectedAfterMs).toBeLessThan(USER_TIMEOUT + 3000);
    expect(result.postMortemLength).toBe(small);
    expect(result.postMortemMismatch).toBe(-1);
  }, 60_000);
});
