'use strict';
// Batch read through the addon, and tcpInfo() one socket at a time, over N
// loopback connections opened by this process. Prints one JSON line.
//   node bench/batch.js N REPS
const { native } = require('../dist/kernel/binding');
const { fdOf } = require('../dist/kernel/fd');
const { tcpInfo } = require('../dist/kernel/tcpinfo');
const { socketCookie } = require('../dist/kernel/sockopt');
const { RECORD_STRIDE } = require('../dist/runtime/scheduler');
const { openConnections, stats } = require('./lib/connections');

const n = Number(process.argv[2] ?? 1000);
const reps = Number(process.argv[3] ?? 50);

async function main() {
  const conns = await openConnections(n);
  const fds = new Int32Array(n);
  const cookies = new BigUint64Array(n);
  conns.clients.forEach((s, i) => { fds[i] = fdOf(s); cookies[i] = socketCookie(s); });
  const out = Buffer.alloc(n * RECORD_STRIDE);
  const pass = (withCookies) => {
    const t0 = process.hrtime.bigint();
    native.readBatch(fds, withCookies ? cookies : null, n, out, RECORD_STRIDE);
    return Number(process.hrtime.bigint() - t0) / n;
  };
  // Sanity: every record read, no errno.
  pass(true);
  for (let i = 0; i < n; i++) {
    if (out.readInt32LE(i * RECORD_STRIDE + 4) !== 0 || out.readInt32LE(i * RECORD_STRIDE) < 232) throw new Error(`record ${i} failed`);
  }
  const onePass = () => {
    const t0 = process.hrtime.bigint();
    let sum = 0;
    for (const s of conns.clients) sum += tcpInfo(s).sndCwnd;
    if (sum === 0) throw new Error('no cwnd');
    return Number(process.hrtime.bigint() - t0) / n;
  };
  for (let w = 0; w < 5; w++) { pass(false); pass(true); onePass(); }
  // Same order as the C baseline: plain and cookie passes interleaved; the
  // allocating tcpInfo() passes run afterwards so they cannot pollute these.
  const plain = [], withCookie = [], single = [];
  for (let r = 0; r < reps; r++) {
    plain.push(pass(false));
    withCookie.push(pass(true));
  }
  for (let r = 0; r < Math.max(5, reps >> 2); r++) single.push(onePass());
  const p = stats(plain), c = stats(withCookie), t = stats(single);
  process.stdout.write(JSON.stringify({
    n, reps, stride: RECORD_STRIDE,
    batchMedianNs: p.median, batchMinNs: p.min,
    batchCookieMedianNs: c.median, batchCookieMinNs: c.min,
    tcpInfoMedianNs: t.median, tcpInfoMinNs: t.min,
  }) + '\n');
  await conns.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
