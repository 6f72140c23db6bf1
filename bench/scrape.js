'use strict';
// A Prometheus scrape (tcp-vitals/prometheus over a real prom-client
// Registry) of N tracked loopback connections, against reading the same N
// sockets with the native batch read alone, measured in the same run,
// alternating. Also the OpenTelemetry collection (tcp-vitals/otel, SDK
// MeterProvider) of the same sockets. Prints one JSON line.
//   node bench/scrape.js [N=10000] [ROUNDS=5] [REPS=20]
// The accepted ends live in a child process (bench/scrape.js --peer), so this
// process needs N fds plus a few: it raises RLIMIT_NOFILE itself when the
// soft limit is lower, by re-running under `ulimit -n`.
const { execFileSync, spawnSync, fork } = require('node:child_process');
const net = require('node:net');

if (process.argv[2] === '--peer') {
  // The peer: accepts and holds connections (paused), reports its port.
  const held = [];
  const server = net.createServer({ pauseOnConnect: true }, (s) => { held.push(s); if (held.length % 1000 === 0) process.send({ accepted: held.length }); });
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => process.send({ port: server.address().port }));
  process.on('disconnect', () => process.exit(0));
  return;
}

const n = Number(process.argv[2] ?? 10_000);
const rounds = Number(process.argv[3] ?? 5);
const reps = Number(process.argv[4] ?? 20);
const needFds = n + 1024;

function currentLimit() {
  return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
}

if (!process.env.TCP_VITALS_SCRAPE_CHILD && currentLimit() < needFds) {
  const cmd = `ulimit -n ${needFds} && exec "${process.execPath}" "${__filename}" ${process.argv.slice(2).map((a) => `"${a}"`).join(' ')}`;
  const r = spawnSync('sh', ['-c', cmd], { stdio: 'inherit', env: { ...process.env, TCP_VITALS_SCRAPE_CHILD: '1' } });
  process.exit(r.status ?? 1);
}

const { Registry } = require('prom-client');
const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
const { native } = require('../dist/kernel/binding');
const { fdOf } = require('../dist/kernel/fd');
const { RECORD_STRIDE } = require('../dist/runtime/scheduler');
const prom = require('../dist/integrations/prometheus');
const otel = require('../dist/integrations/otel');
const { ConnectionReader } = require('../dist/integrations/metrics-reader');
const { stats } = require('./lib/connections');

/** N established loopback connections; the accepted ends are held by a peer child process. */
async function openConnections(count) {
  const peer = fork(__filename, ['--peer'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((resolve, reject) => {
    peer.on('message', (m) => { if (m.port) resolve(m.port); });
    peer.once('exit', (code) => reject(new Error(`peer exited ${code}`)));
  });
  const clients = [];
  for (let i = 0; i < count; i += 200) {
    const wave = [];
    for (let j = 0; j < Math.min(200, count - i); j++) {
      wave.push(new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
        s.once('error', reject);
      }));
    }
    clients.push(...(await Promise.all(wave)));
  }
  for (const c of clients) c.pause();
  return {
    clients, port,
    async close() {
      for (const s of clients) s.destroy();
      peer.disconnect();
      peer.kill();
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function main() {
  const conns = await openConnections(n);
  for (const s of conns.clients) prom.track(s);
  const fds = new Int32Array(n);
  conns.clients.forEach((s, i) => { fds[i] = fdOf(s); });
  const out = Buffer.alloc(n * RECORD_STRIDE);
  const batchOnly = () => {
    const t0 = process.hrtime.bigint();
    native.readBatch(fds, null, n, out, RECORD_STRIDE);
    return ms(t0);
  };
  const registry = new Registry();
  prom.registerMetrics(registry);
  const scrape = async () => {
    await tick(); // a new event-loop turn: a new reading
    const t0 = process.hrtime.bigint();
    const text = await registry.metrics();
    const t = ms(t0);
    const counted = text.split('\n').some((l) => l.startsWith('system_network_tcp_connection_count{') && l.endsWith(`} ${n}`)
      && l.includes(`network_peer_port="${conns.port}"`) && l.includes('network_connection_state="established"'));
    if (!counted) {
      throw new Error(`scrape does not count ${n} connections:\n${text.slice(0, 400)}`);
    }
    return t;
  };
  const reader = new ConnectionReader();
  const readerOnly = () => {
    const t0 = process.hrtime.bigint();
    const r = reader.read();
    if (r.count !== n) throw new Error(`reader read ${r.count}`);
    return ms(t0);
  };
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const metricReader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [metricReader] });
  otel.registerMetrics(provider.getMeter('bench'));
  const collect = async () => {
    await tick();
    const t0 = process.hrtime.bigint();
    await metricReader.collect();
    return ms(t0);
  };
  // Warm-up.
  for (let w = 0; w < 3; w++) { batchOnly(); await scrape(); readerOnly(); await collect(); }
  const ratios = [], otelRatios = [], readerRatios = [];
  const all = { batch: [], scrape: [], reader: [], otel: [] };
  for (let r = 0; r < rounds; r++) {
    const b = [], s = [], rd = [], o = [];
    for (let i = 0; i < reps; i++) {
      b.push(batchOnly());
      s.push(await scrape());
      rd.push(readerOnly());
      o.push(await collect());
    }
    const mb = stats(b).median, ms_ = stats(s).median, mr = stats(rd).median, mo = stats(o).median;
    ratios.push(ms_ / mb); readerRatios.push(mr / mb); otelRatios.push(mo / mb);
    all.batch.push(mb); all.scrape.push(ms_); all.reader.push(mr); all.otel.push(mo);
  }
  const heap0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < 10; i++) await scrape();
  const heapGrowthPerScrapeKB = (process.memoryUsage().heapUsed - heap0) / 10 / 1024;
  process.stdout.write(JSON.stringify({
    n, rounds, reps,
    batchMs: stats(all.batch).median, scrapeMs: stats(all.scrape).median, readerMs: stats(all.reader).median, otelCollectMs: stats(all.otel).median,
    scrapeRatio: stats(ratios).median, scrapeRatioMax: Math.max(...ratios),
    readerRatio: stats(readerRatios).median, otelRatio: stats(otelRatios).median,
    heapGrowthPerScrapeKB: Math.round(heapGrowthPerScrapeKB),
    node: process.version,
  }) + '\n');
  await provider.shutdown();
  await conns.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
