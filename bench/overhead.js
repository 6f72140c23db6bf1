#!/usr/bin/env node
'use strict';
// `npm run bench:overhead`: what the preload (`--require tcp-vitals/register`,
// TCP_VITALS_TIMEOUT=10s TCP_VITALS_SERVERS=1) costs a Node http server and
// an http client, against the same process without it.
//
// Three workloads, each a set of interleaved pairs (plain, preload; the order
// alternates from pair to pair), every run in fresh processes:
// - server-new:  a Node http server (plain or preloaded) and a load generator
//   in another process (always plain): 32 parallel requests, each on a new
//   connection (agent: false, `Connection: close`).
// - server-keep: the same over 32 keep-alive connections.
// - client-new:  the load generator is the process measured (plain or
//   preloaded), the server is plain; 32 parallel new-connection requests.
// The measured process reports its own process.cpuUsage() over exactly the
// measured requests (a warm-up batch is completed first, then the load
// generator tells the server to start counting, runs the batch to the last
// response, and tells it to stop), and its RSS at the end.
//
// usage: node bench/overhead.js [--pairs=5] [--requests=4000] [--only=server-new,client-new]
//        [--register=path/to/register.js] [--json]
//        [--chunked [--chunks=100] [--chunk=250]]  both variants at once, taking turns in small chunks
//        [--syscalls]  per-request syscall counts of the measured process under strace -f -c instead
const { fork } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');

const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const REGISTER = path.resolve(arg('register', path.join(__dirname, '..', 'dist', 'register.js')));
const PRELOAD_ENV = { TCP_VITALS_TIMEOUT: '10s', TCP_VITALS_SERVERS: '1' };
const PARALLEL = 32;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const cpuUs = (u) => u.user + u.system;

function once(child, type) {
  return new Promise((resolve, reject) => {
    const on = (m) => { if (m && m.type === type) { child.off('message', on); child.off('exit', ex); resolve(m); } };
    const ex = (code) => reject(new Error(`child exited ${code} before '${type}'`));
    child.on('message', on);
    child.once('exit', ex);
  });
}

function spawn(role, preload, extra = [], straceTo = null) {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('TCP_VITALS_') || k === 'NODE_OPTIONS') delete clean[k];
  const node = preload ? ['--require', REGISTER] : [];
  return fork(__filename, [role, ...extra], {
    // --syscalls: the measured process runs under `strace -f -c` (counts are load-independent).
    execPath: straceTo ? 'strace' : process.execPath,
    execArgv: straceTo ? ['-f', '-c', '-o', straceTo, process.execPath, ...node] : node,
    env: preload ? { ...clean, ...PRELOAD_ENV } : clean,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

// GC counts and the young generation's size: what the RSS difference is made of.
function gcWatch() {
  const { PerformanceObserver, constants } = require('node:perf_hooks');
  const v8 = require('node:v8');
  const counts = { minor: 0, major: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = e.detail ? e.detail.kind : e.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) counts.minor++;
      else counts.major++;
    }
  }).observe({ entryTypes: ['gc'] });
  return {
    mark() { counts.minor = 0; counts.major = 0; },
    read() {
      const spaces = v8.getHeapSpaceStatistics();
      const newSpace = spaces.find((x) => x.space_name === 'new_space');
      return { ...counts, newSpaceKB: Math.round(newSpace.space_size / 1024), heapUsedMB: +(process.memoryUsage().heapUsed / 1048576).toFixed(1) };
    },
  };
}

// ---- the server process ----
function serverMain() {
  const gc = gcWatch();
  let served = 0;
  let mark = null;
  const server = http.createServer((req, res) => {
    served++;
    res.end('ok\n');
  });
  server.keepAliveTimeout = 60_000;
  process.on('message', (m) => {
    if (m.type === 'begin') {
      mark = { cpu: process.cpuUsage(), served };
      gc.mark();
      process.send({ type: 'begun' });
    } else if (m.type === 'end') {
      const cpu = cpuUs(process.cpuUsage(mark.cpu));
      process.send({ type: 'ended', cpuUs: cpu, requests: served - mark.served, rss: process.memoryUsage().rss, gc: gc.read() });
    } else if (m.type === 'exit') {
      server.close();
      server.closeAllConnections?.();
      process.exit(0);
    }
  });
  server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
}

// ---- the load generator ----
async function load(port, count, agent, lat) {
  let next = 0;
  let done = 0;
  const one = () => new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => { if (lat) lat[done] = performance.now() - t0; done++; resolve(); });
    });
    req.on('error', reject);
    req.end();
  });
  const worker = async () => { while (next < count) { next++; await one(); } };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return performance.now() - t0;
}

// A load generator driven chunk by chunk (--chunked): {type:'load', port, count, keep} -> {type:'loaded', ...}.
function driverMain() {
  const agents = { 0: false, 1: new http.Agent({ keepAlive: true, maxSockets: PARALLEL }) };
  process.on('message', async (m) => {
    if (m.type === 'exit') process.exit(0);
    if (m.type !== 'load') return;
    try {
      const lat = new Float64Array(m.count);
      const c0 = process.cpuUsage();
      const wallMs = await load(m.port, m.count, agents[m.keep ? 1 : 0], lat);
      const cpu = cpuUs(process.cpuUsage(c0));
      process.send({ type: 'loaded', cpuUs: cpu, wallMs, rss: process.memoryUsage().rss, lat: Array.from(lat) });
    } catch (err) {
      process.send({ type: 'loaded', error: String(err && err.stack || err) });
    }
  });
  process.send({ type: 'ready' });
}

function clientMain() {
  // argv: client <port> <requests> <keepAlive 0|1> <measureSelf 0|1>
  const [port, requests, keep, self] = process.argv.slice(3).map(Number);
  const agent = keep ? new http.Agent({ keepAlive: true, maxSockets: PARALLEL }) : false;
  const gc = gcWatch();
  process.on('message', async (m) => {
    if (m.type === 'exit') process.exit(0);
    if (m.type !== 'run') return;
    try {
      await load(port, Math.min(1000, requests), agent, null); // warm-up
      if (global.gc) global.gc();
      if (!self) { process.send({ type: 'begin' }); await new Promise((r) => process.once('message', r)); }
      const lat = new Float64Array(requests);
      gc.mark();
      const c0 = process.cpuUsage();
      const wallMs = await load(port, requests, agent, lat);
      const cpu = cpuUs(process.cpuUsage(c0));
      const rss = process.memoryUsage().rss;
      lat.sort();
      process.send({
        type: 'result', wallMs, cpuUs: cpu, rss, gc: gc.read(), p50: lat[Math.floor(requests * 0.5)], p99: lat[Math.floor(requests * 0.99)],
      });
    } catch (err) {
      process.send({ type: 'result', error: String(err && err.stack || err) });
    }
  });
  process.send({ type: 'ready' });
}

// ---- the driver ----
async function runOnce(workload, preload, requests, straceTo = null) {
  const serverPreload = workload !== 'client-new' && preload;
  const clientPreload = workload === 'client-new' && preload;
  const measureSelf = workload === 'client-new';
  const server = spawn('server', serverPreload, [], measureSelf ? null : straceTo);
  const { port } = await once(server, 'ready');
  const client = spawn('client', clientPreload, [String(port), String(requests), workload === 'server-keep' ? '1' : '0', measureSelf ? '1' : '0'],
    measureSelf ? straceTo : null);
  await once(client, 'ready');
  const resultP = once(client, 'result');
  let serverRes = null;
  if (!measureSelf) {
    const beginP = once(client, 'begin');
    client.send({ type: 'run' });
    await beginP;
    const begun = once(server, 'begun');
    server.send({ type: 'begin' });
    await begun;
    client.send({ type: 'go' });
  } else {
    client.send({ type: 'run' });
  }
  const r = await resultP;
  if (r.error) throw new Error(r.error);
  if (!measureSelf) {
    await new Promise((res) => setTimeout(res, 50)); // the last closes reach the server
    const ended = once(server, 'ended');
    server.send({ type: 'end' });
    serverRes = await ended;
  }
  server.send({ type: 'exit' });
  const exited = (c) => new Promise((res) => { if (c.exitCode !== null || c.signalCode !== null) res(); else c.once('exit', res); });
  client.send({ type: 'exit' });
  await Promise.all([exited(server), exited(client)]);
  const reqs = serverRes ? serverRes.requests : requests;
  return {
    cpuPerReqUs: (measureSelf ? r.cpuUs : serverRes.cpuUs) / reqs,
    rssMB: (measureSelf ? r.rss : serverRes.rss) / 1048576,
    reqPerS: requests / (r.wallMs / 1000),
    p50ms: r.p50, p99ms: r.p99, requests: reqs, gc: measureSelf ? r.gc : serverRes.gc,
  };
}

/** Syscalls per request of the measured process, preload minus plain (warm-up included in both). */
async function syscalls(only, requests) {
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tv-overhead-'));
  const parse = (file) => {
    const counts = {};
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
      if (m && m[2] !== 'total') counts[m[2]] = Number(m[1]);
    }
    return counts;
  };
  const NET = /^(setsockopt|getsockopt|epoll_ctl|getpeername|getsockname|ioctl|accept4?|close|shutdown|socket|connect|bind|listen|read|write|writev|readv|epoll_wait|epoll_pwait|io_uring_enter)$/;
  for (const workload of only) {
    const total = requests + Math.min(1000, requests);
    const c = {};
    for (const p of [false, true]) {
      const file = path.join(dir, `${workload}-${p}.txt`);
      await runOnce(workload, p, requests, file);
      c[p] = parse(file);
    }
    const names = [...new Set([...Object.keys(c.false), ...Object.keys(c.true)])].filter((n) => NET.test(n));
    const rows = names.map((n) => [n, (c.false[n] ?? 0) / total, (c.true[n] ?? 0) / total]).filter((r) => r[1] + r[2] >= 0.05);
    console.log(`\n${workload}: syscalls per request of the measured process (${total} requests, strace -f -c)`);
    console.log('| syscall | plain | preload | added |\n|---|---:|---:|---:|');
    for (const [n, a, b] of rows.sort((x, y) => x[0].localeCompare(y[0]))) console.log(`| ${n} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(b - a).toFixed(2)} |`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * --chunked: both variants run at the same time and take turns in small
 * chunks (default 100 chunks of 250 requests each, order alternating), so a
 * change in the machine's load hits both alike. Server workloads: a plain and
 * a preloaded server, one plain load generator alternating between them, each
 * server's CPU summed over its own chunks. Client workload: a plain and a
 * preloaded generator alternating against one plain server.
 */
async function chunkedRun(workload, chunks, size) {
  const ask = (child, msg, type) => { const p = once(child, type); child.send(msg); return p; };
  const keep = workload === 'server-keep' ? 1 : 0;
  const acc = { plain: { cpu: 0, req: 0, lat: [] }, preload: { cpu: 0, req: 0, lat: [] } };
  const ratios = [];
  let rss = {};
  const procs = [];
  try {
    if (workload === 'client-new') {
      const server = spawn('server', false); procs.push(server);
      const { port } = await once(server, 'ready');
      const gens = { plain: spawn('driver', false), preload: spawn('driver', true) };
      procs.push(gens.plain, gens.preload);
      await Promise.all([once(gens.plain, 'ready'), once(gens.preload, 'ready')]);
      for (const k of ['plain', 'preload']) await ask(gens[k], { type: 'load', port, count: 1000, keep }, 'loaded'); // warm-up
      for (let i = 0; i < chunks; i++) {
        const per = {};
        for (const k of i % 2 ? ['preload', 'plain'] : ['plain', 'preload']) {
          const r = await ask(gens[k], { type: 'load', port, count: size, keep }, 'loaded');
          if (r.error) throw new Error(r.error);
          acc[k].cpu += r.cpuUs; acc[k].req += size; acc[k].lat.push(...r.lat); per[k] = r.cpuUs / size;
          rss[k] = r.rss;
        }
        ratios.push(per.preload / per.plain);
      }
    } else {
      const servers = { plain: spawn('server', false), preload: spawn('server', true) };
      procs.push(servers.plain, servers.preload);
      const ports = { plain: (await once(servers.plain, 'ready')).port, preload: (await once(servers.preload, 'ready')).port };
      const gen = spawn('driver', false); procs.push(gen);
      await once(gen, 'ready');
      for (const k of ['plain', 'preload']) await ask(gen, { type: 'load', port: ports[k], count: 1000, keep }, 'loaded'); // warm-up
      for (let i = 0; i < chunks; i++) {
        const per = {};
        for (const k of i % 2 ? ['preload', 'plain'] : ['plain', 'preload']) {
          await ask(servers[k], { type: 'begin' }, 'begun');
          const r = await ask(gen, { type: 'load', port: ports[k], count: size, keep }, 'loaded');
          if (r.error) throw new Error(r.error);
          await new Promise((res) => setTimeout(res, 20)); // the last closes reach the server
          const e = await ask(servers[k], { type: 'end' }, 'ended');
          acc[k].cpu += e.cpuUs; acc[k].req += e.requests; acc[k].lat.push(...r.lat); per[k] = e.cpuUs / e.requests;
          rss[k] = e.rss;
        }
        ratios.push(per.preload / per.plain);
      }
    }
  } finally {
    for (const p of procs) { try { p.send({ type: 'exit' }); } catch { /* gone */ } }
  }
  const pct = (xs, q) => { const a = Float64Array.from(xs).sort(); return a[Math.floor(a.length * q)]; };
  const row = (k) => ({ cpuPerReqUs: acc[k].cpu / acc[k].req, p50ms: pct(acc[k].lat, 0.5), p99ms: pct(acc[k].lat, 0.99), rssMB: rss[k] / 1048576 });
  return { plain: row('plain'), preload: row('preload'), ratios, totalRatio: (acc.preload.cpu / acc.preload.req) / (acc.plain.cpu / acc.plain.req) };
}

async function chunkedMain(only) {
  const chunks = Number(arg('chunks', '100'));
  const size = Number(arg('chunk', '250'));
  const f = (x, d = 1) => x.toFixed(d);
  console.log(`| workload (chunked: ${chunks} x ${size} requests each, same time) | CPU/request plain µs | preload µs | ratio of totals | median chunk ratio (p25-p75) | p50 plain/preload ms | p99 plain/preload ms | RSS plain MB | RSS +MB |`);
  console.log('|---|---:|---:|---:|---:|---|---|---:|---:|');
  for (const w of only) {
    const r = await chunkedRun(w, chunks, size);
    const q = (p) => { const a = [...r.ratios].sort((x, y) => x - y); return a[Math.floor(a.length * p)]; };
    console.log(`| ${w} | ${f(r.plain.cpuPerReqUs)} | ${f(r.preload.cpuPerReqUs)} | **${f(r.totalRatio, 3)}** | ${f(median(r.ratios), 3)} (${f(q(0.25), 2)}-${f(q(0.75), 2)}) | ${f(r.plain.p50ms, 2)} / ${f(r.preload.p50ms, 2)} | ${f(r.plain.p99ms, 2)} / ${f(r.preload.p99ms, 2)} | ${f(r.plain.rssMB)} | ${f(r.preload.rssMB - r.plain.rssMB)} |`);
  }
}

async function main() {
  const pairs = Number(arg('pairs', '5'));
  const requests = Number(arg('requests', '4000'));
  const only = arg('only', 'server-new,server-keep,client-new').split(',');
  if (process.argv.includes('--syscalls')) return syscalls(only, Number(arg('requests', '2000')));
  if (process.argv.includes('--chunked')) return chunkedMain(only);
  const out = {};
  for (const workload of only) {
    const n = workload === 'client-new' ? 3000 : workload === 'server-keep' ? requests * 3 : requests;
    const rows = [];
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 ? [true, false] : [false, true];
      const r = {};
      for (const p of order) r[p ? 'preload' : 'plain'] = await runOnce(workload, p, n);
      rows.push(r);
    }
    const ratio = (k) => median(rows.map((r) => r.preload[k] / r.plain[k]));
    const med = (w, k) => median(rows.map((r) => r[w][k]));
    out[workload] = {
      requests: n, pairs,
      cpuPerReqUs: { plain: med('plain', 'cpuPerReqUs'), preload: med('preload', 'cpuPerReqUs'), ratio: ratio('cpuPerReqUs') },
      reqPerS: { plain: med('plain', 'reqPerS'), preload: med('preload', 'reqPerS'), ratio: ratio('reqPerS') },
      p50ms: { plain: med('plain', 'p50ms'), preload: med('preload', 'p50ms'), ratio: ratio('p50ms') },
      p99ms: { plain: med('plain', 'p99ms'), preload: med('preload', 'p99ms'), ratio: ratio('p99ms') },
      rssMB: { plain: med('plain', 'rssMB'), preload: med('preload', 'rssMB'), diff: median(rows.map((r) => r.preload.rssMB - r.plain.rssMB)) },
      perPair: rows.map((r) => +(r.preload.cpuPerReqUs / r.plain.cpuPerReqUs).toFixed(3)),
      gc: { plain: rows.map((r) => r.plain.gc), preload: rows.map((r) => r.preload.gc) },
    };
  }
  if (process.argv.includes('--json')) { console.log(JSON.stringify(out)); return; }
  const f = (x, d = 1) => x.toFixed(d);
  console.log(`| workload | CPU/request plain µs | preload µs | ratio (median of ${pairs} pairs) | per-pair ratios | req/s ratio | p50 plain/preload ms | p99 plain/preload ms | RSS plain MB | RSS +MB |`);
  console.log('|---|---:|---:|---:|---|---:|---|---|---:|---:|');
  for (const [w, o] of Object.entries(out)) {
    console.log(`| ${w} (${o.requests} req) | ${f(o.cpuPerReqUs.plain)} | ${f(o.cpuPerReqUs.preload)} | **${f(o.cpuPerReqUs.ratio, 3)}** | ${o.perPair.join(' ')} | ${f(o.reqPerS.ratio, 3)} | ${f(o.p50ms.plain, 2)} / ${f(o.p50ms.preload, 2)} | ${f(o.p99ms.plain, 2)} / ${f(o.p99ms.preload, 2)} | ${f(o.rssMB.plain)} | ${f(o.rssMB.diff)} |`);
  }
}

const role = process.argv[2];
if (role === 'server') serverMain();
else if (role === 'client') clientMain();
else if (role === 'driver') driverMain();
else main().catch((e) => { console.error(e); process.exit(1); });
