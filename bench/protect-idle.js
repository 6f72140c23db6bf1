#!/usr/bin/env node
// Idle cost of protect(): N established, idle loopback connections, protected
// or not, for WINDOW seconds. RLIMIT_NOFILE's hard limit here is 20000 and
// cannot be raised (EPERM), so connections are spread over client processes of
// at most 16,667 each, with their peers in separate server processes. Reports
// CPU of the client processes (utime+stime from /proc) as % of one core, the
// same for the server processes (they answer the keepalive probes' ACKs in
// softirq context only partly charged to them), and the machine-wide softirq
// share from /proc/stat (noisy: other sessions share the machine).
// usage: node bench/protect-idle.js [N...] [--window=20] [--timeout=10000]
'use strict';
const { fork } = require('node:child_process');
const { readFileSync } = require('node:fs');
const net = require('node:net');
const { join } = require('node:path');

const PER_PROCESS = 16_667;
const HZ = 100; // USER_HZ for /proc/<pid>/stat and /proc/stat

function cpuTicks(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}
function machine() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { softirq: f[6], total: f.reduce((a, b) => a + b, 0) };
}
const once = (child, type) => new Promise((resolve, reject) => {
  const on = (m) => { if (m.type === type) { child.off('message', on); resolve(m); } };
  child.on('message', on);
  child.once('exit', (code) => reject(new Error(`child exited ${code} before ${type}`)));
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function role() {
  const [kind, arg] = [process.argv[2], process.argv[3]];
  if (kind === 'server') {
    const keep = [];
    const server = net.createServer({ pauseOnConnect: true }, (s) => keep.push(s));
    server.listen({ host: '127.0.0.1', port: 0, backlog: 8192 }, () => process.send({ type: 'ready', port: server.address().port }));
    process.on('message', (m) => { if (m.cmd === 'count') process.send({ type: 'count', n: keep.length }); });
    return;
  }
  const { n, port, protect, timeout } = JSON.parse(arg);
  let handle = null;
  if (protect) handle = require(join(__dirname, '..', 'dist')).protect({ timeout });
  const sockets = [];
  for (let i = 0; i < n; i += 500) {
    const wave = [];
    for (let j = i; j < Math.min(n, i + 500); j++) {
      wave.push(new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => { s.pause(); resolve(s); });
        s.once('error', reject);
      }));
    }
    sockets.push(...(await Promise.all(wave)));
  }
  for (let i = 0; i < 3; i++) global.gc?.();
  process.send({ type: 'ready', n: sockets.length, protectedNow: handle ? handle.stats().protectedNow : 0 });
  process.on('message', (m) => { if (m.cmd === 'stats') process.send({ type: 'stats', stats: handle?.stats() ?? null }); });
}

async function measure(n, protect, windowS, timeout) {
  const procs = Math.ceil(n / PER_PROCESS);
  const servers = [], clients = [];
  try {
    for (let i = 0; i < procs; i++) {
      const s = fork(__filename, ['server'], { stdio: 'inherit' });
      servers.push(s);
      const { port } = await once(s, 'ready');
      const share = Math.floor(n / procs) + (i < n % procs ? 1 : 0);
      const c = fork(__filename, ['client', JSON.stringify({ n: share, port, protect, timeout })], { stdio: 'inherit', execArgv: ['--expose-gc'] });
      clients.push(c);
      await once(c, 'ready');
    }
    await sleep(20_000); // settle: the connect burst's GC and heap shrinking run for ~15 s
    const c0 = clients.map((c) => cpuTicks(c.pid)), s0 = servers.map((s) => cpuTicks(s.pid)), m0 = machine();
    await sleep(windowS * 1000);
    const c1 = clients.map((c) => cpuTicks(c.pid)), s1 = servers.map((s) => cpuTicks(s.pid)), m1 = machine();
    const sum = (a, b) => a.reduce((acc, x, i) => acc + (b[i] - x), 0);
    return {
      n, protect, processes: procs,
      clientCpuPct: (100 * sum(c0, c1)) / HZ / windowS,
      serverCpuPct: (100 * sum(s0, s1)) / HZ / windowS,
      machineSoftirqPctOfOneCore: (100 * (m1.softirq - m0.softirq)) / HZ / windowS,
    };
  } finally {
    for (const c of [...clients, ...servers]) c.kill('SIGKILL');
  }
}

async function main() {
  const args = process.argv.slice(2);
  const windowS = Number((args.find((a) => a.startsWith('--window=')) ?? '--window=20').split('=')[1]);
  const timeout = Number((args.find((a) => a.startsWith('--timeout=')) ?? '--timeout=10000').split('=')[1]);
  const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number);
  const results = [];
  for (const n of sizes.length ? sizes : [10_000, 50_000]) {
    for (const protect of [false, true]) {
      const r = await measure(n, protect, windowS, timeout);
      results.push(r);
      console.log(JSON.stringify(r));
    }
  }
  console.log(JSON.stringify({ window: windowS, timeout, results }));
}

if (process.argv[2] === 'server' || process.argv[2] === 'client') role();
else main().catch((e) => { console.error(e); process.exit(1); });
