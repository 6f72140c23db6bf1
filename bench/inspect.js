'use strict';
// inspect of a process with N (default 10,000) TCP connections: the target is
// a separate Node process holding N client connections (the server ends live
// in a third process), inspected from this one. Needs root or ptrace rights
// over the child (it is our child: same user is enough unless Yama forbids).
//   node bench/inspect.js [--n 10000] [--runs 7]   (after `npm run build`)
// Prints a Markdown table and one JSON line. Baseline in the same run: `ss -tin`
// over the same connections (tcp_info and timers, no options, no model).
// Child processes get RLIMIT_NOFILE raised to the hard limit (ulimit -n).
const { spawn, execFileSync } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('n', 10000));
const RUNS = Number(arg('runs', 7));
const role = arg('role', 'bench');
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

if (role === 'server') {
  const server = net.createServer({ pauseOnConnect: true }, () => {});
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => process.send({ port: server.address().port }));
  process.on('disconnect', () => process.exit(0));
} else if (role === 'target') {
  const port = Number(arg('port'));
  (async () => {
    const clients = [];
    for (let i = 0; i < N; i += 250) {
      const wave = [];
      for (let j = 0; j < Math.min(250, N - i); j++) {
        wave.push(new Promise((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
          s.once('error', reject);
        }));
      }
      clients.push(...(await Promise.all(wave)));
    }
    // A realistic mix: a third with keepalive, a third with a user timeout.
    clients.forEach((s, i) => { if (i % 3 === 1) s.setKeepAlive(true, 30000); });
    process.send({ ready: clients.length });
  })().catch((e) => { process.send({ error: String(e) }); });
  process.on('disconnect', () => process.exit(0));
} else {
  main().catch((e) => { console.error(e); process.exit(1); });
}

function child(args) {
  const p = spawn('sh', ['-c', `ulimit -n $(ulimit -Hn); exec "${process.execPath}" "${__filename}" ${args}`],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const first = new Promise((resolve, reject) => {
    p.once('message', resolve);
    p.once('exit', (code) => reject(new Error(`child ${args} exited ${code}`)));
  });
  return { p, first };
}

async function main() {
  const { inspectProcess } = require('../dist/readings/inspect');
  const { inspectSockets } = require('../dist/kernel/pidfd');
  const { socketFds } = require('../dist/kernel/proc-net');
  const server = child('--role server');
  const { port } = await server.first;
  const target = child(`--role target --port ${port} --n ${N}`);
  const msg = await target.first;
  if (msg.error) throw new Error(msg.error);
  const pid = target.p.pid;
  const count = inspectProcess(pid).connections.length;
  if (count !== N) throw new Error(`expected ${N} connections, inspect saw ${count}`);
  const t = { list: [], read: [], full: [], cli: [], text: [], ss: [] };
  for (let r = 0; r < RUNS; r++) {
    let t0 = process.hrtime.bigint(); socketFds(pid); t.list.push(ms(t0));
    t0 = process.hrtime.bigint(); inspectSockets(pid); t.read.push(ms(t0));
    t0 = process.hrtime.bigint(); inspectProcess(pid); t.full.push(ms(t0));
    t0 = process.hrtime.bigint();
    execFileSync(process.execPath, [path.join(__dirname, '..', 'dist', 'cli', 'index.js'), 'inspect', String(pid), '--json'],
      { maxBuffer: 256 << 20, stdio: ['ignore', 'ignore', 'inherit'] });
    t.cli.push(ms(t0));
    t0 = process.hrtime.bigint();
    execFileSync(process.execPath, [path.join(__dirname, '..', 'dist', 'cli', 'index.js'), 'inspect', String(pid)],
      { maxBuffer: 256 << 20, stdio: ['ignore', 'ignore', 'inherit'] });
    t.text.push(ms(t0));
    t0 = process.hrtime.bigint();
    execFileSync('ss', ['-tinH', 'state', 'established', `( dport = :${port} )`], { maxBuffer: 256 << 20 });
    t.ss.push(ms(t0));
  }
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
  target.p.kill('SIGKILL');
  server.p.kill('SIGKILL');
  console.log(`inspect of a process with ${N.toLocaleString('en-US')} TCP connections (medians of ${RUNS} runs, ms)\n`);
  console.log('| step | ms | µs per connection |');
  console.log('|---|---:|---:|');
  const row = (name, v) => console.log(`| ${name} | ${v.toFixed(1)} | ${(v * 1000 / N).toFixed(1)} |`);
  row('list /proc/PID/fd (readdir + readlink)', m.list);
  row('inspectSockets: list + pidfd_getfd + reads + decode', m.read);
  row('inspectProcess: + model, traps, verdict', m.full);
  row('`tcp-vitals inspect PID --json` (new process, end to end)', m.cli);
  row('`tcp-vitals inspect PID` (text, grouped by peer)', m.text);
  row('baseline: `ss -tinH` over the same connections (new process)', m.ss);
  console.log(`\nCLI / ss: ${(m.cli / m.ss).toFixed(2)}; target < 1000 ms end to end: ${Math.max(m.cli, m.text) < 1000 ? 'met' : 'MISSED'}`);
  console.log(JSON.stringify({ n: N, runs: RUNS, ...m }));
}
