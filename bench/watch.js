'use strict';
// Cost of watching N connections at 4 Hz, in one process:
//  1. CPU (process.cpuUsage) and event-loop delay (monitorEventLoopDelay,
//     Node's default 10 ms resolution) over a window with nothing watched,
//  2. the same window with every connection watched at 250 ms,
//  3. heap flatness: scheduler.runOnce(true) until >= 1e6 socket reads, with
//     global.gc() and heapUsed at checkpoints (needs --expose-gc).
// Uses watch() from dist/policy/watch.js when it exists ("watch" mode), otherwise the
// shared scheduler directly with cookies and a subscriber that reads the
// fields watch() needs ("scheduler" mode). Prints one JSON line.
//   node --expose-gc bench/watch.js N WINDOW_S [--mode=watch|scheduler] [--baseline]
// --baseline: also compiles bench/raw-baseline.c and runs it paced at 4 Hz
// (plain and with SO_COOKIE, the syscalls readBatch makes for watch()) right
// before and after the watched window, and prints the ratios of the same run:
// added ns per socket-tick / raw ns per socket-tick (median of the two raw runs).
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const binding = require('../dist/kernel/binding');
const { scheduler } = require('../dist/runtime/scheduler');
const { fdOf } = require('../dist/kernel/fd');
const { socketCookie } = require('../dist/kernel/sockopt');
const { TCP_INFO_OFFSETS } = require('../dist/kernel/tcpinfo');
const { openConnections } = require('./lib/connections');

const n = Number(process.argv[2] ?? 5000);
const windowMs = Number(process.argv[3] ?? 10) * 1000;
const modeArg = process.argv.find((a) => a.startsWith('--mode='));
const watchPath = join(__dirname, '..', 'dist', 'policy', 'watch.js');
const mode = modeArg ? modeArg.slice(7) : existsSync(watchPath) ? 'watch' : 'scheduler';
const INTERVAL_MS = 250;
// --stagger=K: start watching in K groups spread over one interval (as
// connections arriving over time would be), instead of all in one loop.
const staggerArg = process.argv.find((a) => a.startsWith('--stagger='));
const STAGGER = staggerArg ? Math.max(1, Number(staggerArg.slice(10))) : 1;
if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withBaseline = process.argv.includes('--baseline');

/** The raw C loop paced at 4 Hz over its own N connections, for `seconds` (JSON line of raw-baseline.c). */
function rawPaced(seconds, cookie) {
  const { execFileSync } = require('node:child_process');
  const os = require('node:os');
  if (!rawPaced.bin) {
    const dir = require('node:fs').mkdtempSync(join(os.tmpdir(), 'tv-watch-bench-'));
    rawPaced.bin = join(dir, 'raw-baseline');
    execFileSync(process.env.CC || 'cc', ['-O2', '-o', rawPaced.bin, join(__dirname, 'raw-baseline.c')]);
  }
  const out = execFileSync('sh', ['-c', `ulimit -n $(ulimit -Hn); ${rawPaced.bin} ${n} paced ${seconds} 4${cookie ? ' cookie' : ''}`], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}
const median2 = (a, b) => (a + b) / 2;

/** CPU (µs) and loop delay over `ms` of wall time, with the loop otherwise idle. */
async function measureWindow(ms) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  global.gc();
  const ticks0 = scheduler.ticks;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  h.enable();
  await sleep(ms);
  h.disable();
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  return {
    wallMs: wall,
    cpuUs: c.user + c.system,
    userUs: c.user,
    systemUs: c.system,
    ticks: scheduler.ticks - ticks0,
    delayP50Ms: h.percentile(50) / 1e6,
    delayP99Ms: h.percentile(99) / 1e6,
    delayMaxMs: h.max / 1e6,
    delaySamples: h.count,
  };
}

// Counts socket reads in either mode: the scheduler calls binding.native.readBatch at call time.
// `reads` counts the entries asked for; `performed` the records that came back
// with data (errno 0 in the record header), so a ratio per read cannot look
// good because reads were skipped or failed.
let reads = 0;
let performed = 0;
const readBatch = binding.native.readBatch;
binding.native.readBatch = function countedReadBatch(fds, cookies, count, out, stride) {
  reads += count;
  const r = readBatch.call(this, fds, cookies, count, out, stride);
  for (let i = 0; i < count; i++) if (out.readInt32LE(i * stride + 4) === 0) performed++;
  return r;
};
// Duration of each tick that read something: the longest synchronous block watch adds.
const tickMs = [];
const runOnce = scheduler.runOnce;
scheduler.runOnce = function timedRunOnce(force) {
  const before = reads;
  const t = performance.now();
  const r = runOnce.call(this, force);
  if (reads > before && tickMs.length < 100000) tickMs.push(performance.now() - t);
  return r;
};
const R = TCP_INFO_OFFSETS;
/** What a watcher does per sample in the steady state: a few field reads, no allocation. */
function subscriberFor() {
  const last = { retransmits: 0, backoff: 0, lastAckRecv: 0, rto: 0, state: 0, q: 0 };
  return {
    onSample(s) {
      if (s.errno !== 0) return;
      last.state = s.state;
      last.retransmits = s.u8(R.retransmits);
      last.backoff = s.u8(R.backoff);
      last.rto = s.u32(R.rto);
      last.lastAckRecv = s.u32(R.lastAckRecv);
      last.q = s.sendQueue - s.unsent;
    },
  };
}

async function main() {
  const conns = await openConnections(n);
  await sleep(500);
  const idle = await measureWindow(windowMs);

  const stops = [];
  const startOne = mode === 'watch'
    ? (() => { const { watch } = require(watchPath); return (s) => { const w = watch(s, { interval: INTERVAL_MS }); stops.push(() => w.stop()); }; })()
    : (s) => { const reg = scheduler.add(fdOf(s), socketCookie(s), INTERVAL_MS, subscriberFor()); stops.push(() => reg.remove()); };
  const per = Math.ceil(n / STAGGER);
  for (let g = 0; g < STAGGER; g++) {
    for (const s of conns.clients.slice(g * per, (g + 1) * per)) startOne(s);
    if (STAGGER > 1) await sleep(INTERVAL_MS / STAGGER);
  }
  await sleep(1000); // let the first ticks and JIT settle
  const rawBefore = withBaseline ? { plain: rawPaced(windowMs / 1000, false), cookie: rawPaced(windowMs / 1000, true) } : null;
  const readsBefore = reads;
  const performedBefore = performed;
  tickMs.length = 0;
  const watched = await measureWindow(windowMs);
  const ticks = [...tickMs].sort((a, b) => a - b);
  watched.tickMsMedian = ticks[ticks.length >> 1];
  watched.tickMsMax = ticks[ticks.length - 1];
  watched.readsPerTick = (reads - readsBefore) / Math.max(1, ticks.length);
  const windowReads = reads - readsBefore;
  const windowReadsPerformed = performed - performedBefore;
  const windowReadsExpected = Math.round(n * (windowMs / INTERVAL_MS));
  let baseline = null;
  if (rawBefore) {
    const rawAfter = { plain: rawPaced(windowMs / 1000, false), cookie: rawPaced(windowMs / 1000, true) };
    const addedNsPerRead = ((watched.cpuUs - idle.cpuUs) * 1e3) / windowReadsPerformed;
    const addedUserNs = ((watched.userUs - idle.userUs) * 1e3) / windowReadsPerformed;
    const addedSystemNs = ((watched.systemUs - idle.systemUs) * 1e3) / windowReadsPerformed;
    const plain = median2(rawBefore.plain.cpuNsPerRead, rawAfter.plain.cpuNsPerRead);
    const cookie = median2(rawBefore.cookie.cpuNsPerRead, rawAfter.cookie.cpuNsPerRead);
    baseline = {
      addedNsPerRead, addedUserNs, addedSystemNs, rawPacedNs: plain, rawPacedCookieNs: cookie,
      ratio: addedNsPerRead / plain, ratioVsCookie: addedNsPerRead / cookie, rawRuns: { before: rawBefore, after: rawAfter },
    };
  }

  // Heap flatness over >= 1e6 socket reads (forced ticks read every entry).
  const ticksFor1M = Math.ceil(1e6 / n);
  const readsBeforeHeap = reads;
  const checkpoints = [];
  const every = Math.max(1, Math.floor(ticksFor1M / 10));
  for (let t = 0; t < 20; t++) scheduler.runOnce(true); // warm-up
  // Hot ticks back to back (caches warm): CPU split per read, user vs kernel.
  const hotReads0 = reads;
  const hot0 = process.cpuUsage();
  for (let t = 0; t < 100; t++) scheduler.runOnce(true);
  const hot = process.cpuUsage(hot0);
  const hotReads = reads - hotReads0;
  const hotTicks = { reads: hotReads, userNsPerRead: (hot.user * 1e3) / hotReads, systemNsPerRead: (hot.system * 1e3) / hotReads };
  global.gc(); global.gc();
  const heapStart = process.memoryUsage().heapUsed;
  let done = 0;
  for (let t = 1; t <= ticksFor1M; t++) {
    scheduler.runOnce(true);
    done += n;
    if (t % every === 0 || t === ticksFor1M) {
      global.gc(); global.gc();
      checkpoints.push({ reads: done, heapUsed: process.memoryUsage().heapUsed });
    }
  }
  const heapEnd = checkpoints[checkpoints.length - 1].heapUsed;
  const heapReads = reads - readsBeforeHeap;
  for (const stop of stops) stop();
  await conns.close();
  process.stdout.write(JSON.stringify({
    mode, n, intervalMs: INTERVAL_MS, stagger: STAGGER, windowMs, idle, watched, windowReads, windowReadsPerformed, windowReadsExpected, hotTicks, baseline,
    heap: { start: heapStart, end: heapEnd, growth: heapEnd - heapStart, max: Math.max(...checkpoints.map((c) => c.heapUsed)), reads: heapReads, checkpoints },
  }) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
