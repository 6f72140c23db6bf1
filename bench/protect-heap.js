#!/usr/bin/env node
// Heap per protected connection: N client sockets (peers in a child process)
// opened without protection, then N opened under protect(), in the same
// process; reported is the extra (heapUsed + arrayBuffers) per connection
// after a full GC. Run with --expose-gc (the script re-executes itself so).
// (2000 by default: each round opens 2N connections; more exhausts the ephemeral ports, which TIME_WAIT holds.)
// usage: node bench/protect-heap.js [N=2000]
'use strict';
const { fork, execFileSync } = require('node:child_process');
const net = require('node:net');
const { join } = require('node:path');

if (!global.gc && process.argv[2] !== 'server') {
  process.stdout.write(execFileSync(process.execPath, ['--expose-gc', __filename, ...process.argv.slice(2)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  process.exit(0);
}

const mem = () => { for (let i = 0; i < 4; i++) global.gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };

async function open(n, port) {
  const out = [];
  for (let i = 0; i < n; i += 250) {
    const wave = [];
    for (let j = i; j < Math.min(n, i + 250); j++) {
      wave.push(new Promise((resolve, reject) => { const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s)); s.once('error', reject); }));
    }
    out.push(...(await Promise.all(wave)));
  }
  return out;
}
async function closeAll(list) {
  await Promise.all(list.map((s) => new Promise((r) => { s.once('close', r); s.destroy(); })));
}

async function main() {
  const n = Number(process.argv[2] ?? 2000);
  const server = fork(__filename, ['server'], { stdio: 'inherit' });
  const port = await new Promise((r) => server.once('message', (m) => r(m.port)));
  try {
    const tv = require(join(__dirname, '..', 'dist'));
    // Warm both paths (code, hidden classes, the table's growth to N fds) before measuring.
    const warm = tv.protect({ timeout: 10_000 });
    await closeAll(await open(n, port));
    warm.stop();
    await closeAll(await open(n, port));
    const rows = [];
    for (let round = 0; round < 3; round++) {
      let base = mem();
      let plain = await open(n, port);
      const plainBytes = (mem() - base) / n;
      await closeAll(plain); plain = null;
      const handle = tv.protect({ timeout: 10_000 });
      base = mem();
      let prot = await open(n, port);
      const protBytes = (mem() - base) / n;
      const protectedNow = handle.stats().protectedNow;
      await closeAll(prot); prot = null;
      handle.stop();
      rows.push({ plainBytes, protBytes, extra: protBytes - plainBytes, protectedNow });
    }
    const med = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[1];
    console.log(JSON.stringify({ n, plainBytesPerConnection: med('plainBytes'), protectedBytesPerConnection: med('protBytes'), extraBytesPerConnection: med('extra'), rows }));
  } finally { server.kill(); }
}

if (process.argv[2] === 'server') {
  const keep = [];
  const srv = net.createServer({ pauseOnConnect: true }, (s) => { keep.push(s); s.on('close', () => keep.splice(keep.indexOf(s), 1)); });
  srv.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => process.send({ port: srv.address().port }));
} else {
  main().catch((e) => { console.error(e); process.exit(1); });
}
