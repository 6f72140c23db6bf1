'use strict';
// How long until a vanished peer becomes an error? (root, network namespaces)
//   node bench/detection.js            (build first: npx tsc -p tsconfig.json)
// One client per cell, each in its own pair of namespaces, all at once. The
// peer (namespace B) vanishes behind an nftables drop-everything table; the
// time is from the moment that table is in force to the client's 'error'
// (both clocks: performance.timeOrigin + performance.now(), same host).
// "sending" writes 100 bytes every 100 ms; "idle" writes nothing (and reads).
// Plain Node is socket.setKeepAlive(true, 1000); it is given 60 s.
// Prints one Markdown table and saves it to bench/results/detection.md.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const PORT = 7100;
const BOUND_MS = 60_000;
const now = () => performance.timeOrigin + performance.now();

// ---- child roles (same file, run inside a namespace) ----
if (process.argv[2] === 'peer') {
  const server = net.createServer((s) => { s.on('data', () => {}); s.on('error', () => {}); process.send({ type: 'accepted' }); });
  server.listen(PORT, process.argv[3], () => process.send({ type: 'listening' }));
  process.on('disconnect', () => process.exit(0));
  return;
}
if (process.argv[2] === 'client') {
  const cfg = JSON.parse(process.argv[3]);
  const { failFast } = require('../dist/policy/failfast');
  const socket = net.connect(PORT, cfg.host, () => {
    if (cfg.mode === 'sending') {
      const chunk = Buffer.alloc(100, 0x61);
      const iv = setInterval(() => { if (socket.destroyed) clearInterval(iv); else socket.write(chunk); }, 100);
    }
    process.send({ type: 'connected' });
  });
  if (cfg.timeout) failFast(socket, { timeout: cfg.timeout });
  else socket.setKeepAlive(true, 1000);
  socket.on('error', (err) => process.send({ type: 'error', at: now(), code: err.code, reason: err.reason ?? null }));
  process.on('disconnect', () => process.exit(0));
  return;
}

// ---- the benchmark ----
const { ADDR_B, Pair, unavailableReason, nextMessage } = require('./netns');

const CONFIGS = [
  { label: 'plain Node, setKeepAlive(true, 1000)', timeout: 0 },
  { label: 'failFast, timeout 2 s', timeout: 2000 },
  { label: 'failFast, timeout 5 s', timeout: 5000 },
  { label: 'failFast, timeout 10 s', timeout: 10_000 },
];
const MODES = ['sending', 'idle'];

async function cell(config, mode) {
  const pair = new Pair();
  try {
    const peer = pair.spawnNode(pair.b, __filename, ['peer', ADDR_B]);
    if (!await nextMessage(peer, (m) => m.type === 'listening', 10_000)) throw new Error('peer did not start');
    const client = pair.spawnNode(pair.a, __filename, ['client', JSON.stringify({ host: ADDR_B, mode, timeout: config.timeout })]);
    if (!await nextMessage(client, (m) => m.type === 'connected', 10_000)) throw new Error('client did not connect');
    // Let the connection settle (idle: past the first keepalive exchange of the 2 s config).
    await new Promise((r) => setTimeout(r, 1500));
    const error = nextMessage(client, (m) => m.type === 'error', BOUND_MS);
    pair.vanish();
    const vanishedAt = now();
    const m = await error;
    return m ? { seconds: (m.at - vanishedAt) / 1000, code: m.code, reason: m.reason } : { seconds: null };
  } finally {
    pair.destroy();
  }
}

function show(r) {
  if (r.seconds === null) return `> ${BOUND_MS / 1000} s (no error)`;
  return `${r.seconds.toFixed(2)} s (${r.code}${r.reason ? `, ${r.reason}` : ''})`;
}

async function main() {
  const reason = unavailableReason();
  if (reason) {
    console.error(`bench/detection.js: ${reason}`);
    process.exit(2);
  }
  const started = Date.now();
  const jobs = [];
  for (const config of CONFIGS) for (const mode of MODES) jobs.push(cell(config, mode).then((r) => [config.label, mode, r]));
  const results = await Promise.all(jobs);
  const row = (label) => MODES.map((mode) => show(results.find(([l, m]) => l === label && m === mode)[2]));
  const lines = [
    '| client | peer vanishes while sending | peer vanishes while idle |',
    '|---|---|---|',
    ...CONFIGS.map((c) => `| ${c.label} | ${row(c.label).join(' | ')} |`),
  ];
  const kernel = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const table = [
    `Time from the peer vanishing (nftables drop, no RST) to an 'error' on the client socket.`,
    `Linux ${kernel}, Node ${process.version}, default sysctls (tcp_retries2 ${readSysctl('tcp_retries2')}), ` +
    `${new Date().toISOString().slice(0, 10)}; one run, wall time ${Math.round((Date.now() - started) / 1000)} s.`,
    '',
    ...lines,
    '',
  ].join('\n');
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'detection.md'), table);
  console.log(table);
}

function readSysctl(name) {
  try { return fs.readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim(); } catch { return '?'; }
}

main().catch((e) => { console.error(e); process.exit(1); });
