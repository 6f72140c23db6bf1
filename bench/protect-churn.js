#!/usr/bin/env node
// Connection churn with and without protect(), and protect()'s set-up cost
// per connection against the raw setsockopt calls it makes.
//
// Churn: ROUNDS sequential loopback rounds (connect, write 1 byte, read the
// echo, destroy) per batch, CPU time (user+system) per round; batches
// alternate plain / protected in fresh child processes, 3 each; the server
// runs in its own process so only the client side is measured.
// Raw: the 6 setsockopt calls protect() makes (SO_KEEPALIVE, TCP_KEEPIDLE,
// TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT, TCP_RTO_MAX_MS) timed as one
// native call (deathwatchApply) on an established socket; "per connection
// set-up" = protected CPU/round - plain CPU/round. A third mode stubs the
// native call out, to split the set-up into JavaScript and kernel work.
// usage: node bench/protect-churn.js [--rounds=3000]
'use strict';
const { fork } = require('node:child_process');
const net = require('node:net');
const { join } = require('node:path');

const root = join(__dirname, '..');
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const once = (child, type) => new Promise((resolve, reject) => {
  const on = (m) => { if (m.type === type) { child.off('message', on); resolve(m); } };
  child.on('message', on);
  child.once('exit', (code) => reject(new Error(`child exited ${code} before ${type}`)));
});

function cpuUs(start) { const u = process.cpuUsage(start); return u.user + u.system; }

async function client(port, rounds, protect) {
  let handle = null;
  if (protect === 'js') {
    // Decomposition only: the hooks and bookkeeping with the native call replaced by a stub.
    const { native } = require(join(root, 'dist', 'kernel', 'binding'));
    let fake = 1;
    native.deathwatchAdd = () => fake++;
  }
  if (protect) handle = require(join(root, 'dist')).protect({ timeout: 10_000 });
  const round = () => new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write('x'));
    s.once('data', () => { s.destroy(); resolve(); });
    s.once('error', reject);
  });
  for (let i = 0; i < 200; i++) await round(); // warm-up
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await round();
  const cpu = cpuUs(c0), wall = performance.now() - t0;
  let raw = null;
  if (protect === true) {
    // The raw calls, on one established protected socket.
    const { native } = require(join(root, 'dist', 'kernel', 'binding'));
    const s = await new Promise((resolve) => { const x = net.connect({ host: '127.0.0.1', port }, () => resolve(x)); });
    const fd = s._handle.fd;
    const N = 20000;
    for (let i = 0; i < 1000; i++) native.deathwatchApply(fd, 9800, 5, 1, 5, 2000);
    let a = process.hrtime.bigint();
    for (let i = 0; i < N; i++) native.deathwatchApply(fd, 9800, 5, 1, 5, 2000);
    const applyNs = Number(process.hrtime.bigint() - a) / N;
    a = process.hrtime.bigint();
    for (let i = 0; i < N; i++) native.deathwatchAdd(fd, 9800, 5, 1, 5, 2000);
    const addNs = Number(process.hrtime.bigint() - a) / N;
    s.destroy();
    raw = { sixSetsockoptNs: applyNs, fullNativeCallNs: addNs };
  }
  process.send({ type: 'done', cpuUsPerRound: cpu / rounds, wallUsPerRound: (wall * 1000) / rounds, raw, stats: handle?.stats() ?? null });
}

async function main() {
  const rounds = Number((process.argv.find((a) => a.startsWith('--rounds=')) ?? '--rounds=3000').split('=')[1]);
  const server = fork(__filename, ['server'], { stdio: 'inherit' });
  const { port } = await once(server, 'ready');
  const plain = [], prot = [], jsOnly = [], raws = [];
  try {
    for (let i = 0; i < 3; i++) {
      for (const protect of ['0', '1', 'js']) {
        const c = fork(__filename, ['client', String(port), String(rounds), protect], { stdio: 'inherit' });
        const r = await once(c, 'done');
        (protect === '1' ? prot : protect === 'js' ? jsOnly : plain).push(r.cpuUsPerRound);
        if (r.raw) raws.push(r.raw);
        c.kill();
      }
    }
  } finally { server.kill(); }
  const p = median(plain), q = median(prot), j = median(jsOnly);
  const raw = median(raws.map((r) => r.sixSetsockoptNs)) / 1000;
  const full = median(raws.map((r) => r.fullNativeCallNs)) / 1000;
  const result = {
    rounds, plainCpuUsPerRound: p, protectedCpuUsPerRound: q, churnRatio: q / p,
    setupUsPerConnection: q - p, rawSixSetsockoptUs: raw, nativeCallUs: full, setupToRawRatio: (q - p) / raw,
    setupToNativeCallRatio: (q - p) / full, jsHooksUsPerConnection: j - p,
    runs: { plain, protected: prot, jsOnly },
  };
  console.log(JSON.stringify(result));
}

if (process.argv[2] === 'server') {
  const srv = net.createServer((s) => { s.on('data', (d) => s.write(d)); s.on('error', () => {}); });
  srv.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => process.send({ type: 'ready', port: srv.address().port }));
} else if (process.argv[2] === 'client') {
  client(Number(process.argv[3]), Number(process.argv[4]), { 0: false, 1: true, js: 'js' }[process.argv[5]]).catch((e) => { console.error(e); process.exit(1); });
} else {
  main().catch((e) => { console.error(e); process.exit(1); });
}
