'use strict';
// `npm run bench`: everything in bench/ that needs no root, in one run, so
// every ratio compares numbers taken minutes apart on the same machine.
//   node bench/run.js [--quick] [--detection] [--no-watch]
// Writes bench/results/latest.json and prints Markdown tables.
// bench/detection.js (root + network namespaces, minutes) runs only with
// --detection, or on its own with `npm run bench:detection`.
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const here = __dirname;

function sh(cmd) {
  // Every child gets the hard fd limit: 5,000 connections are 10,000 fds.
  const r = spawnSync('sh', ['-c', `ulimit -n $(ulimit -Hn); ${cmd}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
const json = (out) => JSON.parse(out.trim().split('\n').pop());
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const fmt = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

// Pin the C baseline and Node to the same core so both see the same cache and
// frequency (when taskset exists and there is more than one core).
const pin = (() => {
  try { execFileSync('taskset', ['-c', '0', 'true']); } catch { return ''; }
  return os.cpus().length > 1 ? `taskset -c ${os.cpus().length - 1} ` : '';
})();

function compileBaseline() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tv-bench-'));
  const bin = path.join(dir, 'raw-baseline');
  const cc = process.env.CC || 'cc';
  execFileSync(cc, ['-O2', '-o', bin, path.join(here, 'raw-baseline.c')]);
  return { bin, dir, cc: execFileSync(cc, ['--version'], { encoding: 'utf8' }).split('\n')[0] };
}

function batchComparison(bin) {
  const rows = [];
  const sizes = quick ? [400, 1000] : [400, 1000, 5000];
  const rounds = quick ? 2 : 3;
  for (const n of sizes) {
    const reps = n >= 5000 ? 40 : 150;
    const raw = [], node = [];
    for (let r = 0; r < rounds; r++) { // alternate so drift hits both alike
      raw.push(json(sh(`${pin}${bin} ${n} ${reps}`)));
      node.push(json(sh(`${pin}${process.execPath} ${path.join(here, 'batch.js')} ${n} ${reps}`)));
    }
    const ratio = (a, b) => median(node.map((x, i) => x[a] / raw[i][b]));
    rows.push({
      n,
      rawNs: median(raw.map((x) => x.plainMedianNs)),
      rawCookieNs: median(raw.map((x) => x.cookieMedianNs)),
      batchNs: median(node.map((x) => x.batchMedianNs)),
      batchCookieNs: median(node.map((x) => x.batchCookieMedianNs)),
      tcpInfoNs: median(node.map((x) => x.tcpInfoMedianNs)),
      batchRatio: ratio('batchMedianNs', 'plainMedianNs'),
      batchCookieRatio: ratio('batchCookieMedianNs', 'plainMedianNs'),
      batchCookieVsRawCookie: ratio('batchCookieMedianNs', 'cookieMedianNs'),
      tcpInfoRatio: ratio('tcpInfoMedianNs', 'plainMedianNs'),
      rounds: { raw, node },
    });
  }
  return rows;
}

function watchCost(bin, rawPaced, rawPacedCookie, stagger) {
  const n = 5000, seconds = quick ? 4 : 10;
  const w = json(sh(`${pin}${process.execPath} --expose-gc ${path.join(here, 'watch.js')} ${n} ${seconds} --stagger=${stagger}`));
  // Per read performed (records that came back with data), never per read expected.
  const reads = w.windowReadsPerformed ?? w.windowReads ?? w.watched.ticks * n;
  const addedCpuUs = w.watched.cpuUs - w.idle.cpuUs;
  const addedNsPerRead = (addedCpuUs * 1e3) / reads;
  return {
    ...w,
    rawPaced,
    rawPacedCookie,
    readsInWindow: reads,
    addedCpuUs,
    addedNsPerRead,
    cpuRatio: addedNsPerRead / rawPaced.cpuNsPerRead,
    cpuRatioVsCookieRaw: addedNsPerRead / rawPacedCookie.cpuNsPerRead,
    addedDelayP99Ms: w.watched.delayP99Ms - w.idle.delayP99Ms,
    addedDelayMaxMs: w.watched.delayMaxMs - w.idle.delayMaxMs,
  };
}

function main() {
  const started = new Date().toISOString();
  const { bin, dir, cc } = compileBaseline();
  const machine = {
    date: started, node: process.version, kernel: os.release(), cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model, cc, pinnedTo: pin.trim() || 'not pinned',
    fdLimit: sh('ulimit -Hn').trim(),
    loadavgBefore: os.loadavg(),
  };
  console.log(`# tcp-vitals benchmarks (${started})`);
  console.log(`node ${machine.node}, kernel ${machine.kernel}, ${machine.cpus} x ${machine.cpuModel}, ${machine.cc}, ${machine.pinnedTo}\n`);
  const batch = batchComparison(bin);
  console.log('| N | raw C ns/socket | readBatch ns/socket | ratio | readBatch+cookie ns | ratio to raw | raw C+cookie ns | ratio to raw+cookie | tcpInfo() ns/call | ratio |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of batch) {
    console.log(`| ${r.n} | ${fmt(r.rawNs)} | ${fmt(r.batchNs)} | ${fmt(r.batchRatio, 2)} | ${fmt(r.batchCookieNs)} | ${fmt(r.batchCookieRatio, 2)} | ${fmt(r.rawCookieNs)} | ${fmt(r.batchCookieVsRawCookie, 2)} | ${fmt(r.tcpInfoNs)} | ${fmt(r.tcpInfoRatio, 1)} |`);
  }
  let watch = null;
  if (!args.has('--no-watch')) {
    const n = 5000, seconds = quick ? 4 : 10;
    const rawPaced = json(sh(`${pin}${bin} ${n} paced ${seconds} 4`));
    const rawPacedCookie = json(sh(`${pin}${bin} ${n} paced ${seconds} 4 cookie`));
    // All watched in one loop (worst case: one big tick), then arriving over one interval in 20 groups.
    watch = [1, 20].map((stagger) => watchCost(bin, rawPaced, rawPacedCookie, stagger));
    console.log(`\nwatch() on ${n} connections at 4 Hz, ${seconds} s windows (idle window first, same process):`);
    console.log('| measure | all at once | staggered (20 groups) |\n|---|---:|---:|');
    const row = (label, f) => console.log(`| ${label} | ${watch.map(f).join(' | ')} |`);
    row('mode', (w) => w.mode);
    row('reads in window: expected (n x 4 Hz x window) / asked / performed', (w) => `${w.windowReadsExpected} / ${w.windowReads} / ${w.windowReadsPerformed}`);
    row('reads performed / expected', (w) => fmt(w.windowReadsPerformed / w.windowReadsExpected, 3));
    row('reads per tick (median tick ms / max tick ms)', (w) => `${fmt(w.watched.readsPerTick)} (${fmt(w.watched.tickMsMedian, 2)} / ${fmt(w.watched.tickMsMax, 2)})`);
    row('added CPU, ns per socket read', (w) => fmt(w.addedNsPerRead));
    row('raw C at 4 Hz, CPU ns per read: TCP_INFO+SIOCOUTQ / +SO_COOKIE', () => `${fmt(rawPaced.cpuNsPerRead)} / ${fmt(rawPacedCookie.cpuNsPerRead)}`);
    row('  of which user / kernel, ns per read (timer-driven window)', (w) => `${fmt((w.watched.userUs - w.idle.userUs) * 1e3 / w.readsInWindow)} / ${fmt((w.watched.systemUs - w.idle.systemUs) * 1e3 / w.readsInWindow)}`);
    row('hot ticks back to back: user / kernel ns per read', (w) => `${fmt(w.hotTicks.userNsPerRead)} / ${fmt(w.hotTicks.systemNsPerRead)}`);
    row('CPU ratio to raw (target <= 1.5)', (w) => fmt(w.cpuRatio, 2));
    row('CPU ratio to raw with SO_COOKIE', (w) => fmt(w.cpuRatioVsCookieRaw, 2));
    row('loop delay p99, idle / watched, ms', (w) => `${fmt(w.idle.delayP99Ms, 2)} / ${fmt(w.watched.delayP99Ms, 2)}`);
    row('added loop delay p99, ms (target <= 2)', (w) => fmt(w.addedDelayP99Ms, 2));
    row('loop delay max, idle / watched, ms', (w) => `${fmt(w.idle.delayMaxMs, 2)} / ${fmt(w.watched.delayMaxMs, 2)}`);
    row('heap growth after gc over >= 1e6 forced reads, bytes', (w) => `${w.heap.growth} (${w.heap.reads} reads)`);
  }
  let detection = null;
  if (args.has('--detection')) {
    const det = path.join(here, 'detection.js');
    if (fs.existsSync(det)) {
      console.log('\n## detection (bench/detection.js)');
      detection = sh(`${process.execPath} ${det}`);
      console.log(detection);
    } else console.log('\n(bench/detection.js not present)');
  }
  fs.rmSync(dir, { recursive: true, force: true });
  machine.loadavgAfter = os.loadavg();
  console.log(`\nload average before ${machine.loadavgBefore.map((x) => x.toFixed(2)).join(' ')}, after ${machine.loadavgAfter.map((x) => x.toFixed(2)).join(' ')} (2 cores; other work on the machine shows up as noise)`);
  const outDir = path.join(here, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify({ machine, batch, watch, detection }, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), path.join(outDir, 'latest.json'))}`);
}

main();
