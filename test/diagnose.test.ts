/**
 * diagnose() against the real kernel: a healthy echo, an idle connection, a
 * peer that reads but never answers, a peer that stopped reading (zero
 * window), a peer that closed, and (root) a peer that vanished (netns +
 * nftables), read both from inside the process and from the outside by inspect.
 */
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { constants as os } from 'node:os';
import { createInterface } from 'node:readline';
import { diagnose } from '../lib/readings/diagnose';
import { tcpInfo } from '../lib/kernel/tcpinfo';
import { inspectProcess } from '../lib/readings/inspect';
import { ADDR_B, describeNetns, fixture } from './helpers/netns';
import { echoPeerPair } from './helpers/echo-peer';
import { blockedListener, loopbackPair, LoopbackPair, sleep, waitUntil } from './helpers/loopback';
import { fdOf } from '../lib/kernel/fd';
import { connectionLines } from '../lib/cli/inspect-text';

const onceData = (s: net.Socket) => new Promise<Buffer>((resolve) => s.once('data', resolve));

describe('diagnose() on loopback', () => {
  let pair: LoopbackPair | undefined;
  afterEach(async () => { await pair?.close(); pair = undefined; });

  test('a healthy echo: healthy right after a round trip, idle after a second of silence', async () => {
    pair = await loopbackPair();
    const { client, peer } = pair;
    peer.on('data', (d) => peer.write(d));
    for (let i = 0; i < 3; i++) {
      const reply = onceData(client);
      client.write('ping');
      await reply;
    }
    const d = diagnose(client);
    expect(d.verdict).toBe('healthy');
    expect(d.unacknowledgedBytes).toBe(0);
    await sleep(1300);
    const idle = diagnose(client);
    expect(idle.verdict).toBe('idle');
    expect(idle.evidence).toMatch(/^no data either way for 1\.\d+ s; peer last heard/);
    expect(idle.durationMs).toBeGreaterThanOrEqual(1000);
  });

  test('a peer that reads but never answers: peer-app-silent, every byte acknowledged, network fine', async () => {
    pair = await loopbackPair();
    const { client, peer } = pair;
    let swallowed = 0;
    peer.on('data', (d) => { swallowed += d.length; });
    client.write('GET /slow HTTP/1.1\r\n\r\n');
    await waitUntil(() => swallowed === 22, 5000, 'the peer application to read the request');
    await sleep(1300);
    const d = diagnose(client);
    expect(d.verdict).toBe('peer-app-silent');
    expect(d.evidence).toMatch(/^peer application silent for 1\.\d+ s; network fine \(every byte acknowledged by the peer's kernel/);
    expect(d.unacknowledgedBytes).toBe(0);
    expect(d.durationMs).toBeGreaterThanOrEqual(1000);
    expect(d.since).toBeLessThanOrEqual(Date.now() - 1000);
  });

  test('a peer that stopped reading: peer-not-reading once its window is zero', async () => {
    pair = await loopbackPair({ serverOptions: { pauseOnConnect: true } });
    const { client } = pair;
    const chunk = Buffer.alloc(256 * 1024, 'x');
    // Fill the peer's receive buffer: write while Node's buffer drains, until the kernel reports a zero window.
    const deadline = Date.now() + 20_000;
    while (tcpInfo(client).sndWnd !== 0 && Date.now() < deadline) {
      if (client.writableLength < 4 * chunk.length) client.write(chunk);
      await sleep(10);
    }
    expect(tcpInfo(client).sndWnd).toBe(0);
    const d = diagnose(client);
    expect(d.verdict).toBe('peer-not-reading');
    expect(d.evidence).toMatch(/^the peer's receive window is zero: its application is not reading \(\d+ bytes waiting to be sent\)/);
  });

  test('a peer that closed (FIN): closed; a destroyed socket: closed without a syscall', async () => {
    pair = await loopbackPair();
    const { client, peer } = pair;
    client.on('end', () => { /* keep our side open: CLOSE_WAIT */ });
    client.on('error', () => {});
    (client as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
    peer.end();
    await waitUntil(() => tcpInfo(client).state === 'CLOSE_WAIT', 5000, 'CLOSE_WAIT');
    expect(diagnose(client)).toMatchObject({ verdict: 'closed', state: 'CLOSE_WAIT' });
    expect(diagnose(client).evidence).toMatch(/FIN received/);
    client.destroy();
    expect(diagnose(client)).toMatchObject({ verdict: 'closed', evidence: 'the socket is destroyed' });
  });

  test('a connecting socket (SYN_SENT, its SYN dropped): network, never "idle, peer last heard <uptime> ago"', async () => {
    // backlog 1 holds 2 connections; the listener does not accept for 4 s: the third SYN is dropped.
    const listener = await blockedListener(1, 4000);
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = net.connect(listener.port, '127.0.0.1');
        sockets.push(s);
        await new Promise((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
      }
      const third = net.connect(listener.port, '127.0.0.1');
      sockets.push(third);
      third.on('error', () => {});
      await waitUntil(() => { try { return fdOf(third) >= 0; } catch { return false; } }, 2000, 'an fd for the connecting socket');
      const first = diagnose(third);
      expect(first.state).toBe('SYN_SENT');
      expect(first.verdict).toBe('network');
      expect(first.evidence).toMatch(/^no answer to the SYN yet/);
      expect(first.evidence).not.toMatch(/heard| h |min/);
      expect(first.durationMs).toBeNull();
      // From the outside, inspect (this very process) says the same.
      const port = third.localPort!;
      const outside = inspectProcess(process.pid).connections.find((c) => c.local.port === port && c.state === 'SYN_SENT');
      expect(outside?.diagnosis).toMatchObject({ verdict: 'network', durationMs: null });
      const text = connectionLines(outside!).join('\n');
      expect(text).toContain('heard nothing yet');
      expect(text).not.toMatch(/heard [\d.]+ \w+ ago/);
      // After the first retransmission (initial RTO 1 s).
      await waitUntil(() => third.connecting === false || tcpInfo(third).retransmits > 0, 3500, 'a retransmitted SYN');
      if (third.connecting) {
        const later = diagnose(third);
        expect(later.verdict).toBe('network');
        // rto stays 1 s for the first SYN retransmissions where the kernel has tcp_syn_linear_timeouts
        expect(later.evidence).toMatch(/^no answer to the SYN yet \(1 retransmission, rto [\d.]+ m?s\): the peer's host or the path is gone$/);
      }
    } finally {
      sockets.forEach((s) => s.destroy());
      await listener.stop();
    }
  });

  test('bad options throw Node-shaped errors before any syscall', () => {
    expect(() => diagnose(-1, null as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    for (const v of [NaN, -1, Infinity]) {
      expect(() => diagnose(-1, { idleAfterMs: v })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    }
    expect(() => diagnose(-1, { idleAfterMs: 'x' as never })).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
  });

  test('bad targets throw Node-shaped errors', () => {
    expect(() => diagnose('socket' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => diagnose(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => diagnose(0x7ffffff0)).toThrow(expect.objectContaining({ code: 'EBADF', errno: -9, syscall: 'getsockopt' }));
  });
});

describeNetns('diagnose() when the peer vanished (netns + nftables)', () => {
  const peerPair = echoPeerPair();

  test('network: bytes unacknowledged and retransmitting, inside the process and from the outside', async () => {
    await peerPair.start();
    const { client, ready } = await peerPair.spawnClient('inspect-node.js');
    peerPair.pair.vanish();
    client.send({ cmd: 'write', which: 'plain', bytes: 1000 });
    let d: any;
    for (let i = 0; i < 60; i++) {
      d = (await client.request({ cmd: 'diagnose', which: 'plain' }, 'diagnosis', 10_000)).diagnosis;
      if (d.verdict === 'network' && d.retransmits > 0) break;
      await sleep(250);
    }
    expect(d).toMatchObject({ verdict: 'network', unacknowledgedBytes: 1000 });
    expect(d.retransmits).toBeGreaterThan(0);
    expect(d.evidence).toMatch(/^1000 bytes unacknowledged, retransmitting \(\d+ timeouts, rto [\d.]+ (ms|s)\); peer last heard/);
    const outside = inspectProcess(ready.pid).connections.find((c) => c.local.port === ready.ports.plain)!;
    expect(outside.diagnosis).toMatchObject({ verdict: 'network', unacknowledgedBytes: 1000 });
    expect(outside.retransmits).toBeGreaterThan(0);
  }, 60_000);
});

describeNetns('diagnose() of a socket the kernel gave up on (ETIMEDOUT, state CLOSE)', () => {
  const peerPair = echoPeerPair();
  let py: ReturnType<typeof spawn> | undefined;
  peerPair.onCleanup(() => py?.kill('SIGKILL'));

  test('network: the kernel closed it after retransmitting, read from the outside afterwards', async () => {
    await peerPair.start({ 'net.ipv4.tcp_retries2': 2 });
    const pair = peerPair.pair;
    py = spawn('ip', ['netns', 'exec', pair.a, 'python3', fixture('inspect-py-dead.py'), ADDR_B, '7000'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: py.stdout! })[Symbol.asyncIterator]();
    const ready = JSON.parse((await lines.next()).value);
    pair.vanish();
    py.stdin!.write('go\n');
    let timer: NodeJS.Timeout | undefined;
    const died = await Promise.race([lines.next(), new Promise<{ value: string }>((r) => {
      timer = setTimeout(() => r({ value: '{"error":"timeout"}' }), 30_000);
    })]);
    clearTimeout(timer);
    expect(JSON.parse(died.value)).toEqual({ error: os.errno.ETIMEDOUT });
    const c = inspectProcess(ready.pid).connections.find((x) => x.local.port === ready.port)!;
    expect(c.state).toBe('CLOSE');
    expect(c.retransmits).toBeGreaterThan(0);
    expect(c.diagnosis.verdict).toBe('network');
    expect(c.diagnosis.evidence).toMatch(/^the kernel gave up after \d+ retransmission timeouts: the network or the peer's host is gone; state CLOSE$/);
  }, 60_000);
});
