/**
 * runtime/socket-hooks: one set of patches per socket, shared by features and
 * by two loaded copies of the package; destroy listeners in phase order, each
 * isolated; no own `destroy` left on any socket, so a later APM wrap of
 * Socket.prototype.destroy sees every socket. And kernel/identity: a socket's
 * cookie is remembered at first sight and checked on later registrations.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import { join } from 'node:path';
import { failFast } from '../lib/policy/failfast';
import { watch } from '../lib/policy/watch';
import { acked } from '../lib/policy/delivery';
import { loopbackPair } from './helpers/loopback';
import { DIST, runFdReuseChild } from './helpers/fd-reuse';
import { HOOKS, internals, isAccepted, onDestroy, onWrite, userlandBuffered } from '../lib/runtime/socket-hooks';


test('the internals it relies on are there on this Node', () => {
  expect(internals).toMatchObject({ write: true, writev: true, destroy: true, writableBuffer: true });
});

test('failFast, watch and acked on one socket: no own destroy, one shared hook state; accessors', async () => {
  const pair = await loopbackPair();
  const { client, peer } = pair;
  peer.on('error', () => {});
  peer.on('data', () => {});
  try {
    const f = failFast(client, { timeout: 2000 });
    const w = watch(client);
    await acked(client);
    expect(Object.prototype.hasOwnProperty.call(client, 'destroy')).toBe(false);
    expect(Object.getOwnPropertySymbols(client).filter((s) => s === HOOKS)).toHaveLength(1);
    expect(isAccepted(client)).toBe(false);
    expect(isAccepted(peer)).toBe(true);
    peer.pause();
    client.cork();
    client.write('a');
    client.write('b');
    expect(userlandBuffered(client).map((c) => String(c.chunk))).toEqual(['a', 'b']);
    client.uncork();
    w.stop();
    f.stop();
  } finally {
    await pair.close();
  }
});

test('a later APM wrap of Socket.prototype.destroy sees a failFast socket, and the error is still augmented', async () => {
  const pair = await loopbackPair();
  const { client, peer } = pair;
  peer.on('error', () => {});
  peer.on('data', () => {});
  const original = net.Socket.prototype.destroy;
  const seenByApm: unknown[] = [];
  try {
    failFast(client, { timeout: 2000 });
    net.Socket.prototype.destroy = function (this: net.Socket, err?: Error) {
      seenByApm.push(err);
      return original.call(this, err);
    };
    const error = once(client, 'error');
    const timedOut = Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' });
    client.destroy(timedOut);
    const [err] = await error;
    expect(seenByApm).toEqual([timedOut]);
    expect(err).toBe(timedOut);
    expect(err.reason).toBe('kernel');
  } finally {
    net.Socket.prototype.destroy = original;
    await pair.close();
  }
});

test('two loaded copies of the package share one set of patches; listeners run augment first, each isolated', () => {
  const script = `
    const net = require('net');
    const load = () => {
      for (const k of Object.keys(require.cache)) if (k.startsWith(${JSON.stringify(DIST)})) delete require.cache[k];
      return require(${JSON.stringify(join(DIST, 'runtime', 'socket-hooks'))});
    };
    const a = load(), b = load();
    let uncaught = 0;
    process.on('uncaughtException', () => { uncaught++; });
    const order = [];
    const srv = net.createServer((p) => p.resume()).listen(0, '127.0.0.1', () => {
      const c = net.connect(srv.address().port, '127.0.0.1', () => {
        const ownDestroy = () => Object.getOwnPropertyNames(c).filter((n) => n === '_destroy' || n === 'destroy');
        a.onDestroy(c, () => { order.push('a-observe'); throw new Error('bug'); });
        const before = c._destroy;
        b.onDestroy(c, (e) => order.push('b-augment ' + (e && e.message)), 'augment');
        b.onWrite(c, (chunks) => order.push('b-write ' + chunks.length));
        const samePatch = c._destroy === before && a !== b;
        c.write('x');
        c.destroy(new Error('boom'));
        c.on('error', () => {});
        setTimeout(() => {
          console.log(JSON.stringify({ samePatch, order, uncaught, own: ownDestroy() }));
          process.exit(0);
        }, 100);
      });
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({
    // Nothing is patched on the socket itself: process-hooks dispatches the socket's listener lists.
    samePatch: true, order: ['b-write 1', 'b-augment boom', 'a-observe'], uncaught: 1, own: [],
  });
});

test('onWrite sees every chunk in order; an unsubscribed listener nothing more', async () => {
  const pair = await loopbackPair();
  const { client, peer } = pair;
  peer.on('error', () => {});
  peer.on('data', () => {});
  try {
    const seen: string[] = [];
    const off = onWrite(client, (chunks) => { for (const c of chunks) seen.push(String(c.chunk)); });
    client.write('one');
    client.write('two');
    await new Promise((r) => setImmediate(r));
    off();
    client.write('three');
    const destroyed: Array<Error | null> = [];
    onDestroy(client, (e) => destroyed.push(e));
    client.destroy();
    expect(seen).toEqual(['one', 'two']);
    expect(destroyed).toEqual([null]);
  } finally {
    await pair.close();
  }
});

test('identity: an fd closed behind Node\'s back and reused is refused (ESTALE) by later registrations', () => {
  const r = runFdReuseChild(`
    const { checkedCookie, readCookie } = require(${JSON.stringify(join(DIST, 'kernel', 'identity'))});
    const { watch } = require(${JSON.stringify(join(DIST, 'policy', 'watch'))});
    const { failFast } = require(${JSON.stringify(join(DIST, 'policy', 'failfast'))});`, `
        const cookie = checkedCookie(a); // first sight: remembered
        const again = checkedCookie(a) === cookie;`, `{
          again, reused: b !== null, differs: readCookie(fd) !== cookie,
          checked: codeOf(() => checkedCookie(a)),
          watch: codeOf(() => watch(a)),
          failFast: codeOf(() => failFast(a, { timeout: 2000 })),
        }`);
  expect(r.status).toBe(0);
  const estale = 'ESTALE getsockopt';
  expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({
    again: true, reused: true, differs: true, checked: estale, watch: estale, failFast: estale,
  });
});

test('identity: one-shot reads and writes on a socket whose fd was closed behind Node\'s back and reused are refused (ESTALE), and the new socket is untouched', () => {
  const r = runFdReuseChild(`
    const tv = require(${JSON.stringify(DIST)});`, `
        const first = tv.tcpInfo(a).state; // first sight: the cookie is remembered`, `{
          first, reused: b !== null,
          tcpInfo: codeOf(() => tv.tcpInfo(a)),
          queues: codeOf(() => tv.queues(a)),
          getOptions: codeOf(() => tv.getOptions(a)),
          setOptions: codeOf(() => tv.setOptions(a, { userTimeout: 1234 })),
          setsockopt: codeOf(() => tv.setsockopt(a, tv.constants.IPPROTO_TCP, tv.constants.TCP_USER_TIMEOUT, 4321)),
          newSocketUnchanged: tv.getOptions(b).userTimeout === before,
        }`, `
        const before = tv.getOptions(b).userTimeout;`);
  expect(r.status).toBe(0);
  const estale = 'ESTALE getsockopt';
  expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({
    first: 'ESTABLISHED', reused: true, tcpInfo: estale, queues: estale, getOptions: estale, setOptions: estale, setsockopt: estale,
    newSocketUnchanged: true,
  });
});
