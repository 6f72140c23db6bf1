#!/usr/bin/env node
// Event delivery latency on a paused socket: a protected client socket that
// Node is not reading (paused in 'connect', before its first read) gets its
// peer's RST; measured is the time from the peer's resetAndDestroy() (the
// kernel records the error synchronously on loopback) to the client's
// 'error'. The kernel's ETIMEDOUT verdicts (user timeout, keepalive) take the
// same path (EPOLLERR on the deathwatch's epoll set). Without protection the
// paused socket reports nothing: the control run waits 1 s per trial.
// usage: node bench/protect-latency.js [trials=200]
'use strict';
const net = require('node:net');
const { join } = require('node:path');

const tv = require(join(__dirname, '..', 'dist'));

async function trial(port, accepted) {
  const before = accepted.length;
  const c = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => c.once('connect', () => { c.pause(); resolve(); }));
  while (accepted.length === before) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 2));
  const got = new Promise((resolve) => {
    c.once('error', () => resolve(performance.now()));
    setTimeout(() => resolve(null), 1000).unref();
  });
  const t0 = performance.now();
  accepted[accepted.length - 1].resetAndDestroy();
  const t1 = await got;
  c.destroy();
  return t1 === null ? null : t1 - t0;
}

async function main() {
  const trials = Number(process.argv[2] ?? 200);
  const accepted = [];
  const srv = net.createServer((s) => { accepted.push(s); s.on('error', () => {}); });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const port = srv.address().port;
  const control = [];
  for (let i = 0; i < 5; i++) control.push(await trial(port, accepted));
  const handle = tv.protect({ timeout: 10_000 });
  const xs = [];
  for (let i = 0; i < trials; i++) xs.push(await trial(port, accepted));
  handle.stop();
  srv.close();
  const got = xs.filter((x) => x !== null).sort((a, b) => a - b);
  const q = (p) => got[Math.min(got.length - 1, Math.floor(p * got.length))];
  console.log(JSON.stringify({
    trials, delivered: got.length, p50Ms: q(0.5), p90Ms: q(0.9), p99Ms: q(0.99), maxMs: got[got.length - 1],
    unprotectedControl: { trials: control.length, delivered: control.filter((x) => x !== null).length },
  }));
}
main().catch((e) => { console.error(e); process.exit(1); });
