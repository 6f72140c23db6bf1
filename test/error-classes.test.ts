/**
 * PeerGoneError and AckAbortError are classes: `instanceof` and the guards
 * hold for failFast's and acked()'s real errors on loopback, for a Node
 * ETIMEDOUT that failFast augmented, and across two loaded copies of the
 * package; look-alike objects are not accepted.
 */
import { join } from 'node:path';
import * as net from 'node:net';
import {
  acked, AckAbortError, DeathReason, failFast, isAckAbortError, isPeerGoneError, PeerGoneError,
} from '../lib/index';
import { peerGoneError } from '../lib/common/errors';
import { loopbackPair, sleep } from './helpers/loopback';

describe('PeerGoneError', () => {
  test("keeps Node's system-error shape and today's fields", () => {
    const err = peerGoneError('retransmit', 12, 'no ACK for 10 s');
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(PeerGoneError);
    expect(isPeerGoneError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'ETIMEDOUT', errno: -110, syscall: 'tcp-vitals', reason: 'retransmit', unacknowledgedBytes: 12 });
    expect(err.message).toBe('connection timed out (retransmit): no ACK for 10 s');
    expect(err.name).toBe('PeerGoneError');
    expect(err.stack).toMatch(/^PeerGoneError: connection timed out/);
    // The brand is not enumerable: util.inspect and JSON show the same fields as before.
    expect(Object.keys(err).sort()).toEqual(['code', 'errno', 'reason', 'syscall', 'unacknowledgedBytes']);
  });

  test('look-alikes are not PeerGoneErrors', () => {
    const duck = Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT', reason: 'kernel', unacknowledgedBytes: 0 });
    expect(isPeerGoneError(duck)).toBe(false);
    expect(duck instanceof PeerGoneError).toBe(false);
    expect(isPeerGoneError({ code: 'ETIMEDOUT', reason: 'kernel' })).toBe(false);
    for (const v of [null, undefined, 0, 'ETIMEDOUT', {}]) expect(isPeerGoneError(v)).toBe(false);
    expect(isAckAbortError(peerGoneError('kernel', 0, 'x'))).toBe(false);
  });

  test('a subclass keeps ordinary instanceof semantics', () => {
    class Mine extends PeerGoneError {}
    expect(new Mine('kernel', 0, 'x')).toBeInstanceOf(Mine);
    expect(peerGoneError('kernel', 0, 'x') instanceof Mine).toBe(false);
    expect(new Mine('kernel', 0, 'x')).toBeInstanceOf(PeerGoneError);
  });

  test('two loaded copies of the package recognise each other\'s errors', () => {
    const dist = join(__dirname, '..', 'dist', 'common', 'errors.js');
    let a: typeof import('../lib/common/errors') | undefined;
    let b: typeof import('../lib/common/errors') | undefined;
    jest.isolateModules(() => { a = require(dist); });
    jest.isolateModules(() => { b = require(dist); });
    expect(a!.PeerGoneError).not.toBe(b!.PeerGoneError);
    const fromA = a!.peerGoneError('keepalive', 0, 'x');
    expect(b!.isPeerGoneError(fromA)).toBe(true);
    expect(fromA instanceof b!.PeerGoneError).toBe(true);
    const abortA = a!.ackAbortError(new Error('why'), 'aborted', 3);
    expect(b!.isAckAbortError(abortA)).toBe(true);
    expect(abortA instanceof b!.AckAbortError).toBe(true);
  });

  test("a reset of a paused failFast socket is Node's own ECONNRESET (the one engine names it as protect() does), not a PeerGoneError", async () => {
    const accepted: net.Socket[] = [];
    const server = net.createServer((s) => { accepted.push(s); s.on('error', () => {}); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    // Paused inside 'connect', before Node starts reading: Node never sees the reset; the engine's deathwatch does,
    // reads SO_ERROR and gives the socket the kernel's own error (0.1 called it ETIMEDOUT with reason 'kernel').
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise<void>((r) => client.once('connect', () => { client.pause(); r(); }));
    try {
      for (let i = 0; i < 500 && accepted.length === 0; i++) await sleep(10);
      const seen = new Promise<Error>((r) => client.once('error', r));
      failFast(client, { timeout: 2000, pollInterval: 50 });
      accepted[0].resetAndDestroy();
      const err = await seen;
      expect(err).not.toBeInstanceOf(PeerGoneError);
      expect(err).toMatchObject({ code: 'ECONNRESET', errno: -104 });
      // The README's pattern: the guard narrows the type, so err.reason compiles for TS users.
      const reason: DeathReason | undefined = isPeerGoneError(err) ? err.reason : undefined;
      expect(reason).toBeUndefined();
    } finally {
      client.destroy();
      for (const s of accepted) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  test('a Node ETIMEDOUT that failFast augmented is a PeerGoneError, with its own errno and syscall', async () => {
    const pair = await loopbackPair();
    try {
      failFast(pair.client, { timeout: 2000 });
      const timedOut = Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT', errno: -110, syscall: 'read' });
      const seen = new Promise<Error>((r) => pair.client.once('error', r));
      pair.client.destroy(timedOut);
      const err = await seen;
      expect(err).toBe(timedOut);
      expect(err).toBeInstanceOf(PeerGoneError);
      expect(isPeerGoneError(err) && err.reason).toBe('kernel');
      expect(err).toMatchObject({ syscall: 'read', errno: -110, unacknowledgedBytes: 0 });
    } finally {
      await pair.close();
    }
  });
});

describe('AckAbortError', () => {
  test("acked()'s abort is an AckAbortError with Node's AbortError shape", async () => {
    const pair = await loopbackPair();
    try {
      const ac = new AbortController();
      const why = new Error('enough');
      ac.abort(why);
      const err = await acked(pair.client, { signal: ac.signal }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(AckAbortError);
      expect(isAckAbortError(err)).toBe(true);
      expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: why, unacknowledgedBytes: 0 });
      expect(isPeerGoneError(err)).toBe(false);
    } finally {
      await pair.close();
    }
  });

  test("acked()'s timeout is an AckAbortError whose cause is a TimeoutError", async () => {
    const accepted: net.Socket[] = [];
    const server = net.createServer((s) => { accepted.push(s); s.pause(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    c.on('error', () => {});
    try {
      await new Promise((r) => c.once('connect', r));
      c.write(Buffer.alloc(32 << 20)); // far more than the paused peer's receive buffer holds
      const err = await acked(c, { timeout: 50 }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(AckAbortError);
      expect((err as AckAbortError).cause).toMatchObject({ name: 'TimeoutError' });
      expect((err as AckAbortError).unacknowledgedBytes).toBeGreaterThan(0);
    } finally {
      c.destroy();
      for (const s of accepted) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
