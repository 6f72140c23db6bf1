#!/usr/bin/env node
// Checks the four shipped binaries (prebuilds/linux-{x64,arm64}/tcp-vitals.{glibc,musl}.node)
// without running them on their target systems:
//
// - every one: an ELF shared object for its machine, stripped, needing only
//   libc.so.6, libstdc++.so.6 and libgcc_s.so.1; no fortify (__*_chk) and no
//   __libc_single_threaded imports; libstdc++ symbols no newer than GCC 8's
//   (GLIBCXX_3.4.25, CXXABI_1.3.11: RHEL 8, Debian 10).
// - glibc: no imported symbol versioned later than GLIBC_2.28.
// - musl: every undefined symbol is exported by musl's libc.so (Debian's musl
//   package; for arm64 the musl:arm64 .deb, see .ci/run), by libstdc++ /
//   libgcc_s (checked by name against the GCC runtime libraries of the
//   toolchain: Debian has no musl-built libstdc++; node:alpine ships both), or
//   by Node (napi_*, node_*, uv_*); no LFS64 alias (open64 and the like: musl
//   1.2.4 dropped them from its API; not relied on). Then musl's own dynamic loader lists it
//   (`ld-musl-<arch>.so.1 --list`, arm64 under qemu-aarch64): it must map
//   libc.so.6 to musl itself and report nothing but the missing libstdc++ /
//   libgcc_s files and the Node / C++-runtime symbols named above.
//
// `node scripts/check-prebuilds.js [--json]`: exit 1 when a check fails, 2
// when a tool or library a check needs is missing (CI installs them all).
// test/prebuilds.test.ts runs the same checks.
'use strict';
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { TARGETS } = require('./prebuild.js');

const root = join(__dirname, '..');

const GLIBC_FLOOR = '2.28';
const GLIBCXX_FLOOR = '3.4.25';
const CXXABI_FLOOR = '1.3.11';
const ALLOWED_NEEDED = ['libc.so.6', 'libgcc_s.so.1', 'libstdc++.so.6'];

/** Where each arch's libraries are (Debian paths); MUSL_ARM64_ROOT overrides the extracted musl:arm64 .deb. */
function libsFor(arch) {
  if (arch === 'x64') {
    return {
      machine: 'Advanced Micro Devices X86-64',
      libstdcxx: '/usr/lib/x86_64-linux-gnu/libstdc++.so.6',
      libgcc: '/lib/x86_64-linux-gnu/libgcc_s.so.1',
      musl: '/lib/ld-musl-x86_64.so.1',
      runLoader: (file) => ['/lib/ld-musl-x86_64.so.1', ['--list', file]],
    };
  }
  const muslRoot = process.env.MUSL_ARM64_ROOT || '/tmp/tcp-vitals-musl-arm64';
  const musl = [join(muslRoot, 'lib', 'ld-musl-aarch64.so.1'), '/lib/ld-musl-aarch64.so.1'].find((p) => existsSync(p))
    ?? join(muslRoot, 'lib', 'ld-musl-aarch64.so.1');
  return {
    machine: 'AArch64',
    libstdcxx: '/usr/aarch64-linux-gnu/lib/libstdc++.so.6',
    libgcc: '/usr/aarch64-linux-gnu/lib/libgcc_s.so.1',
    musl,
    runLoader: (file) => ['qemu-aarch64', [musl, '--list', file]],
  };
}

class Missing extends Error {}

function readelf(args) {
  const r = spawnSync('readelf', ['-W', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Missing(`readelf not found (binutils): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`readelf ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Dynamic symbols of an ELF file: { name, version, undefined, weak }. */
function dynamicSymbols(file) {
  const out = [];
  for (const line of readelf(['--dyn-syms', file]).split('\n')) {
    const m = line.match(/^\s*\d+:\s+[0-9a-f]+\s+\d+\s+(\w+)\s+(\w+)\s+\w+\s+(\w+)\s+(\S+)/);
    if (!m || m[1] === 'SECTION' || m[1] === 'FILE') continue;
    const [name, version] = m[4].split(/@+/);
    if (!name) continue;
    out.push({ name, version: version?.replace(/\s*\(\d+\)$/, '') ?? '', undefined: m[3] === 'UND', weak: m[2] === 'WEAK' });
  }
  return out;
}

/** Names a shared library defines (exports). */
function exportsOf(file) {
  if (!existsSync(file)) throw new Missing(`${file} is missing`);
  return new Set(dynamicSymbols(file).filter((s) => !s.undefined).map((s) => s.name));
}

function needed(file) {
  return [...readelf(['-d', file]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

/** "2.28" < "2.3" is false: compares dotted versions numerically. */
function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The newest `PREFIX_x.y` version among the symbols, or null. */
function newest(symbols, prefix) {
  let best = null;
  for (const s of symbols) {
    if (!s.version.startsWith(prefix)) continue;
    const v = s.version.slice(prefix.length);
    if (best === null || compareVersions(v, best) > 0) best = v;
  }
  return best;
}

const isNode = (name) => /^(napi_|node_api_|node_|uv_)/.test(name);

/** Runs musl's loader in list mode and returns the lines it reports as problems that are not allowed. */
function loaderProblems(file, libs, allowedMissing) {
  const [cmd, args] = libs.runLoader(file);
  if (!existsSync(libs.musl)) throw new Missing(`musl loader ${libs.musl} is missing`);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Missing(`${cmd}: ${r.error.message}`);
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  const problems = [];
  let libcMapped = false;
  const relocated = [];
  for (const line of lines) {
    if (/^\s*libc\.so\.6 => \S*(musl|libc\.so)/.test(line)) { libcMapped = true; continue; }
    if (/^\s*\S+ \(0x[0-9a-f]+\)$/.test(line)) continue; // the loader itself
    const lib = line.match(/^Error loading shared library (\S+): No such file or directory/);
    if (lib && (lib[1] === 'libstdc++.so.6' || lib[1] === 'libgcc_s.so.1')) continue;
    const rel = line.match(/^Error relocating \S+: (\S+): symbol not found$/);
    if (rel) {
      relocated.push(rel[1]);
      if (isNode(rel[1]) || allowedMissing.has(rel[1])) continue;
    }
    problems.push(`musl loader: ${line.trim()}`);
  }
  if (!libcMapped) problems.push('musl loader: libc.so.6 was not mapped to musl');
  return { problems, relocationErrors: relocated.length };
}

/** Checks one target; throws Missing when a tool or reference library is absent. */
function checkTarget(t) {
  const file = join(root, 'prebuilds', t.dir, t.file);
  const problems = [];
  if (!existsSync(file)) return { target: t.name, file, problems: [`${t.dir}/${t.file} is missing (npm run build:prebuild)`] };
  const bytes = readFileSync(file);
  const libs = libsFor(t.arch);
  const header = readelf(['-h', file]);
  if (!header.includes('DYN (Shared object file)')) problems.push('not an ELF shared object');
  if (!header.includes(libs.machine)) problems.push(`not built for ${libs.machine}`);
  if (readelf(['-S', file]).includes('.symtab')) problems.push('not stripped (.symtab present)');
  const deps = needed(file);
  for (const d of deps) if (!ALLOWED_NEEDED.includes(d)) problems.push(`needs ${d}`);
  const syms = dynamicSymbols(file);
  const imports = syms.filter((s) => s.undefined);
  for (const s of imports) {
    if (/^__\w+_chk$/.test(s.name)) problems.push(`fortify symbol ${s.name}`);
    if (s.name === '__libc_single_threaded') problems.push('imports __libc_single_threaded (GLIBC_2.32)');
  }
  const summary = {
    glibc: newest(imports, 'GLIBC_'), glibcxx: newest(imports, 'GLIBCXX_'), cxxabi: newest(imports, 'CXXABI_'), gcc: newest(imports, 'GCC_'),
  };
  if (summary.glibcxx && compareVersions(summary.glibcxx, GLIBCXX_FLOOR) > 0) problems.push(`needs GLIBCXX_${summary.glibcxx} (> ${GLIBCXX_FLOOR}, GCC 8)`);
  if (summary.cxxabi && compareVersions(summary.cxxabi, CXXABI_FLOOR) > 0) problems.push(`needs CXXABI_${summary.cxxabi} (> ${CXXABI_FLOOR}, GCC 8)`);
  const result = {
    target: t.name, file: `prebuilds/${t.dir}/${t.file}`, size: statSync(file).size,
    sha256: createHash('sha256').update(bytes).digest('hex'), needed: deps, newest: summary, imports: imports.length, problems,
  };
  if (t.libc === 'glibc') {
    if (summary.glibc && compareVersions(summary.glibc, GLIBC_FLOOR) > 0) problems.push(`needs GLIBC_${summary.glibc} (> ${GLIBC_FLOOR})`);
    for (const s of imports) {
      if (s.version.startsWith('GLIBC_') && compareVersions(s.version.slice(6), GLIBC_FLOOR) > 0) problems.push(`${s.name}@${s.version}`);
    }
    return result;
  }
  // musl
  const libc = exportsOf(libs.musl);
  const cxx = new Set([...exportsOf(libs.libstdcxx), ...exportsOf(libs.libgcc)]);
  const fromRuntime = new Set();
  const unresolved = [];
  for (const s of imports) {
    if (isNode(s.name)) continue;
    if (libc.has(s.name)) {
      if (/64$/.test(s.name) && libc.has(s.name.slice(0, -2))) problems.push(`LFS64 alias ${s.name} (musl 1.2.4 dropped the LFS64 names from its API: not relied on)`);
      continue;
    }
    if (/^(GLIBCXX_|CXXABI_|GCC_)/.test(s.version) && cxx.has(s.name)) { fromRuntime.add(s.name); continue; }
    if (s.weak) continue; // weak and absent: resolves to 0, by design (_ITM_*, __gmon_start__)
    unresolved.push(s.version ? `${s.name}@${s.version}` : s.name);
  }
  for (const u of unresolved) problems.push(`musl: nothing provides ${u}`);
  const loader = loaderProblems(file, libs, fromRuntime);
  problems.push(...loader.problems);
  Object.assign(result, { fromMuslLibc: imports.filter((s) => libc.has(s.name)).length, fromCxxRuntime: fromRuntime.size, loaderRelocationErrors: loader.relocationErrors });
  return result;
}

/** All targets: { results, missing } (missing: what could not be checked here, and why). */
function checkPrebuilds() {
  const results = [];
  const missing = [];
  for (const t of TARGETS) {
    try {
      results.push(checkTarget(t));
    } catch (err) {
      if (!(err instanceof Missing)) throw err;
      missing.push(`${t.name}: ${err.message}`);
    }
  }
  return { results, missing };
}

if (require.main === module) {
  const { results, missing } = checkPrebuilds();
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ results, missing }, null, 2) + '\n');
  } else {
    for (const r of results) {
      const n = r.newest ?? {};
      console.log(`${r.problems.length ? 'FAIL' : 'ok  '} ${r.target.padEnd(12)} ${String(r.size).padStart(7)} B  GLIBC_${n.glibc} GLIBCXX_${n.glibcxx} CXXABI_${n.cxxabi} GCC_${n.gcc}`
        + (r.fromMuslLibc !== undefined ? `  musl libc: ${r.fromMuslLibc} symbols, C++ runtime: ${r.fromCxxRuntime}, loader: ${r.problems.some((p) => p.startsWith('musl loader')) ? 'errors' : 'clean'}` : ''));
      for (const p of r.problems) console.log(`     ${p}`);
    }
    for (const m of missing) console.log(`MISSING ${m}`);
  }
  process.exit(results.some((r) => r.problems.length) ? 1 : missing.length ? 2 : 0);
}

module.exports = { checkPrebuilds, compareVersions, dynamicSymbols, GLIBC_FLOOR };
