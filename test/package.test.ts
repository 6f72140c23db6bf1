/**
 * The package as a user gets it: `npm pack`, then the tarball installed into
 * a fresh project (offline, from the npm cache, when it can), required from
 * CommonJS and imported from an ES module. The tarball carries LICENSE and
 * every relative link in its README and docs resolves inside it. The core
 * never loads the optional peer dependencies.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '..');
const NPM_TIMEOUT_MS = 180_000;

/** Relative link targets in a markdown text (inline links and images), without anchors. */
export function relativeLinks(text: string): string[] {
  const out: string[] = [];
  const noCode = text.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
  for (const m of noCode.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#') || target.startsWith('//')) continue;
    out.push(decodeURIComponent(target.split('#')[0]));
  }
  return out;
}

function run(cmd: string, args: string[], cwd: string): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: NPM_TIMEOUT_MS, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

describe('the npm package', () => {
  let work = '';
  let tarball = '';
  let files: string[] = [];
  let unpacked = '';
  let project = '';
  let installOutput = '';
  let installMode = '';

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'tcp-vitals-pack-'));
    // dist/ is built by `npm test` (tsc) before jest runs; skip the prepare script here.
    const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', timeout: NPM_TIMEOUT_MS });
    const info = JSON.parse(json)[0];
    tarball = join(work, info.filename);
    files = info.files.map((f: { path: string }) => f.path);
    unpacked = join(work, 'unpacked');
    execFileSync('mkdir', ['-p', unpacked]);
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
    project = join(work, 'app');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const args = ['install', tarball, '--no-audit', '--no-fund'];
    let r = run('npm', [...args, '--offline'], project);
    installMode = 'offline';
    if (r.code !== 0) {
      installMode = 'prefer-offline';
      // Not everything in the npm cache (a fresh machine): fall back to the registry for the two dependencies.
      r = run('npm', [...args, '--prefer-offline'], project);
    }
    installOutput = r.out;
    if (r.code !== 0) throw new Error(`npm install of the tarball failed:\n${r.out}`);
  }, NPM_TIMEOUT_MS * 2 + 60_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the tarball carries LICENSE, the docs, the examples, dist and the prebuilds', () => {
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/integrations/prometheus.js',
      'dist/integrations/otel.js', 'dist/integrations/request-vitals.js', 'docs/metrics.md', 'examples/prom-client.js']) {
      expect(files).toContain(f);
    }
    // The four prebuilds (linux-x64 and linux-arm64, each glibc and musl) and the install script that uses them on Linux only.
    expect(files.filter((f) => f.endsWith('.node')).sort()).toEqual([
      'prebuilds/linux-arm64/tcp-vitals.glibc.node', 'prebuilds/linux-arm64/tcp-vitals.musl.node',
      'prebuilds/linux-x64/tcp-vitals.glibc.node', 'prebuilds/linux-x64/tcp-vitals.musl.node',
    ]);
    expect(files).toContain('scripts/install.js');
    expect(readFileSync(join(unpacked, 'LICENSE'), 'utf8')).toMatch(/^MIT License[\s\S]*tcp-vitals contributors[\s\S]*WITHOUT WARRANTY OF ANY KIND/);
    const pkg = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'));
    expect(pkg.license).toBe('MIT');
    expect(pkg.repository.url).toBe('git+https://github.com/tcp-vitals/tcp-vitals.git');
    expect(pkg.homepage).toBe('https://github.com/tcp-vitals/tcp-vitals#readme');
    expect(pkg.bugs.url).toBe('https://github.com/tcp-vitals/tcp-vitals/issues');
    expect(pkg.peerDependenciesMeta['prom-client'].optional).toBe(true);
    expect(pkg.peerDependenciesMeta['@opentelemetry/api'].optional).toBe(true);
    // No test or source-control leftovers.
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('.git') || f.startsWith('node_modules/'))).toEqual([]);
  });

  test('every relative link in the packed README and docs resolves to a file inside the tarball', () => {
    const mds = ['README.md', ...readdirSync(join(unpacked, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    if (existsSync(join(unpacked, 'BENCHMARKS.md'))) mds.push('BENCHMARKS.md');
    const dead: string[] = [];
    let checked = 0;
    for (const md of mds) {
      for (const link of relativeLinks(readFileSync(join(unpacked, md), 'utf8'))) {
        if (link === '') continue;
        checked++;
        const target = normalize(resolve(unpacked, dirname(md), link));
        const inside = !relative(unpacked, target).startsWith('..');
        if (!inside || !existsSync(target)) dead.push(`${md} -> ${link}`);
      }
    }
    expect(checked).toBeGreaterThan(8);
    expect(dead).toEqual([]);
  });

  test('the link checker finds what it should (and skips URLs, anchors and code)', () => {
    const md = 'see [a](docs/a.md#x), ![i](img/p.png "t"), [u](https://x.y/z), [h](#top), `[c](nope.md)`\n```\n[d](nope2.md)\n```\n';
    expect(relativeLinks(md)).toEqual(['docs/a.md', 'img/p.png']);
  });

  test('installed from the tarball: required from CommonJS, with the prebuild, no compiler involved', () => {
    const installed = join(project, 'node_modules', 'tcp-vitals');
    expect(existsSync(join(installed, 'LICENSE'))).toBe(true);
    expect(existsSync(join(installed, 'build'))).toBe(false); // the prebuild was used, nothing compiled
    // Optional peer dependencies are not installed with it.
    expect(existsSync(join(project, 'node_modules', 'prom-client'))).toBe(false);
    expect(existsSync(join(project, 'node_modules', '@opentelemetry', 'api'))).toBe(false);
    const script = `
      const net = require('node:net');
      const tv = require('tcp-vitals');
      const prom = require('tcp-vitals/prometheus');
      const otel = require('tcp-vitals/otel');
      const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
        const c = net.connect(server.address().port, '127.0.0.1', () => {
          const info = tv.tcpInfo(c);
          const v = tv.requestVitals(c);
          let promError = null;
          try { prom.registerMetrics({ registerMetric() {} }); } catch (e) { promError = e.message; }
          console.log(JSON.stringify({ state: info.state, rtt: v.rttMs > 0, track: typeof prom.track, otel: typeof otel.registerMetrics, promError,
            peers: Object.keys(require.cache).filter((k) => /prom-client|@opentelemetry/.test(k)) }));
          c.destroy(); server.close();
        });
      });`;
    const r = run(process.execPath, ['-e', script], project);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(out).toEqual({ state: 'ESTABLISHED', rtt: true, track: 'function', otel: 'function', peers: [],
      promError: 'tcp-vitals/prometheus needs prom-client, an optional peer dependency: npm install prom-client' });
  });

  test('installed from the tarball: imported from an ES module (named exports)', () => {
    writeFileSync(join(project, 'check.mjs'), `
      import { tcpInfo, failFast, requestVitals } from 'tcp-vitals';
      import { registerMetrics, track } from 'tcp-vitals/prometheus';
      import * as otel from 'tcp-vitals/otel';
      import { retriesBudgetMs } from 'tcp-vitals/model';
      console.log(JSON.stringify([typeof tcpInfo, typeof failFast, typeof requestVitals, typeof registerMetrics, typeof track, typeof otel.registerMetrics,
        typeof retriesBudgetMs]));
    `);
    const r = run(process.execPath, [join(project, 'check.mjs')], project);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.trim())).toEqual(['function', 'function', 'function', 'function', 'function', 'function', 'function']);
  });

  test('the install output (npm\'s install-scripts advisory, if any, is what the README describes)', () => {
     
    console.log(`npm install (--${installMode}) output:\n${installOutput}`);
    const advisory = installOutput.split('\n').filter((l) => /allow-scripts|allowScripts|install-scripts/.test(l));
    if (advisory.length > 0) {
      const listed = advisory.find((l) => l.includes('tcp-vitals@'));
      expect(listed).toMatch(/tcp-vitals@\S+ \(install: node scripts\/install\.js[;)]/);
      // The README quotes this line as npm prints it (the scripts listed by name; their commands may change).
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
      const quoted = readme.split('\n').find((l) => l.includes('tcp-vitals@0.1.0 (install: node scripts/install.js'));
      expect(quoted).toBeDefined();
      const scripts = (s: string) => [...s.matchAll(/[(;]\s*([a-z]+):/g)].map((m) => m[1]);
      expect(scripts(quoted!)).toEqual(scripts(listed!));
    }
  });

  test('the core never loads prom-client or @opentelemetry/api (they are optional peers)', () => {
    const script = `
      require(${JSON.stringify(join(ROOT, 'dist'))});
      require(${JSON.stringify(join(ROOT, 'dist', 'integrations', 'prometheus'))});
      require(${JSON.stringify(join(ROOT, 'dist', 'integrations', 'otel'))});
      console.log(JSON.stringify(Object.keys(require.cache).filter((k) => /node_modules[\\\\/](prom-client|@opentelemetry)/.test(k))));`;
    const r = run(process.execPath, ['-e', script], ROOT);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.trim())).toEqual([]);
    // ...while prom-client is resolvable here: the check above could have seen it.
    const r2 = run(process.execPath, ['-e', `require('prom-client'); console.log(Object.keys(require.cache).some((k) => k.includes('prom-client')))`], ROOT);
    expect(r2.out.trim()).toBe('true');
  });
});
