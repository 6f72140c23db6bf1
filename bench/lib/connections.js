'use strict';
// Opens N established loopback connections inside this process (both ends),
// for benchmarks. Returns { clients, accepted, server, close() }.
const net = require('node:net');

async function openConnections(n, { batch = 200 } = {}) {
  const accepted = [];
  const server = net.createServer({ pauseOnConnect: true }, (s) => { accepted.push(s); });
  await new Promise((resolve, reject) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve).once('error', reject));
  const { port } = server.address();
  const clients = [];
  for (let i = 0; i < n; i += batch) {
    const k = Math.min(batch, n - i);
    const wave = [];
    for (let j = 0; j < k; j++) {
      wave.push(new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
        s.once('error', reject);
      }));
    }
    clients.push(...(await Promise.all(wave)));
  }
  for (let spins = 0; accepted.length < n && spins < 10000; spins++) await new Promise((r) => setImmediate(r));
  if (accepted.length < n) throw new Error(`only ${accepted.length}/${n} connections accepted`);
  for (const c of clients) c.pause();
  return {
    clients,
    accepted,
    server,
    async close() {
      for (const s of clients) s.destroy();
      for (const s of accepted) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Sorted copy, median and min of an array of numbers. */
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[s.length >> 1], min: s[0], p90: s[Math.floor(s.length * 0.9)] };
}

module.exports = { openConnections, stats };
