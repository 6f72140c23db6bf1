'use strict';
// Per-request cost of the TCP span facts: sequential keep-alive HTTP requests
// (client and server in this process, so each request makes a client span and
// a server span) with @opentelemetry/instrumentation-http and the real tracing
// SDK (SimpleSpanProcessor, in-memory exporter), alternating in each round:
//   A: the instrumentation alone (the baseline);
//   B: the same instrumentation with tcp-vitals' httpSpanHooks().
// Same process, same connection, config switched with setConfig(). Prints one
// JSON line: per-request medians and ratio B / A (median of per-round ratios).
//   node bench/otel-spans.js [REQUESTS=200] [ROUNDS=40]
// Measured as CPU time of the process per request (process.cpuUsage), not wall time.
const api = require('@opentelemetry/api');
const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { httpSpanHooks } = require('../dist/integrations/otel');

const requests = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 40);

const exporter = new InMemorySpanExporter();
api.trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
const instrumentation = new HttpInstrumentation();
registerInstrumentations({ instrumentations: [instrumentation] });
const http = require('node:http');

const baseline = {};
const withFacts = process.env.BENCH_EMPTY_HOOKS ? { requestHook() {}, applyCustomAttributesOnSpan() {} } : { ...httpSpanHooks(process.env.BENCH_SLOW_MS ? { slowMs: Number(process.env.BENCH_SLOW_MS) } : undefined) };
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const server = http.createServer((req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const port = server.address().port;
  const one = () => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
  });
  const run = async (config) => {
    instrumentation.setConfig(config);
    // CPU time of this process (client + server + SDK + hooks all run here): robust to a loaded machine.
    const c0 = process.cpuUsage();
    for (let i = 0; i < requests; i++) await one();
    const c = process.cpuUsage(c0);
    const perRequest = (c.user + c.system) / 1000 / requests;
    exporter.reset();
    return perRequest;
  };
  await run(baseline); await run(withFacts); // warm-up
  const a = [], b = [], ratios = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate the order each round: neither configuration always runs on a warmer machine.
    const first = r % 2 === 0;
    const x = first ? await run(baseline) : await run(withFacts);
    const y = first ? await run(withFacts) : await run(baseline);
    const [ta, tb] = first ? [x, y] : [y, x];
    a.push(ta); b.push(tb); ratios.push(tb / ta);
  }
  agent.destroy();
  server.close();
  const us = (ms) => Math.round(ms * 1000 * 10) / 10;
  process.stdout.write(`${JSON.stringify({
    requests, rounds, node: process.version,
    instrumentedUs: us(median(a)), withFactsUs: us(median(b)),
    ratio: Math.round(median(ratios) * 1000) / 1000, worstRatio: Math.round(Math.max(...ratios) * 1000) / 1000,
    bestRatio: Math.round(Math.min(...ratios) * 1000) / 1000,
  })}\n`);
});
