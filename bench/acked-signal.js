'use strict';
// acked() calls sharing one AbortSignal: time to queue N waits on one stalled
// loopback socket, and how long controller.abort() blocks the event loop.
//   node bench/acked-signal.js [N ...]     (default 20000 100000)
// Prints one JSON line per N: { n, queueMs, abortMs, listeners }.
const net = require('node:net');
const { getEventListeners } = require('node:events');
const { acked } = require('../dist/policy/delivery');

async function one(n) {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const peer = new Promise((r) => server.once('connection', r));
  const client = net.connect(server.address().port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  const p = await peer;
  client.write(Buffer.alloc(4 << 20, 1)); // never acknowledged: the peer does not read
  const controller = new AbortController();
  let t = performance.now();
  const waits = [];
  for (let i = 0; i < n; i++) waits.push(acked(client, { signal: controller.signal }).catch(() => {}));
  const queueMs = performance.now() - t;
  const listeners = getEventListeners(controller.signal, 'abort').length;
  t = performance.now();
  controller.abort();
  const abortMs = performance.now() - t;
  await Promise.all(waits);
  client.destroy();
  p.destroy();
  server.close();
  return { n, queueMs: Math.round(queueMs), abortMs: Math.round(abortMs), listeners };
}

(async () => {
  const ns = process.argv.slice(2).map(Number);
  for (const n of ns.length ? ns : [20000, 100000]) console.log(JSON.stringify(await one(n)));
})();
