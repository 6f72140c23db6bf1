#!/usr/bin/env node
// `npm run build:prebuild`: builds the four shipped N-API binaries with
// prebuildify, one per target, into prebuilds/linux-<arch>/tcp-vitals.<libc>.node
// (node-gyp-build picks the file whose libc tag matches: `musl` on Alpine,
// `glibc` elsewhere), and records a hash of the native sources and of the
// build recipe next to each arch directory, so test/loading.test.ts can tell
// when a committed binary is stale. `npm run build:prebuild -- x64-glibc`
// builds only the named targets. (Not named `prebuild`: npm would run that as
// the pre-hook of `build`.)
//
// How each target is built (Debian 12 toolchains; scripts/check-prebuilds.js
// proves the result):
// - every target: no fortify (no __*_chk imports); libstdc++ and libgcc_s
//   linked dynamically, as Node itself needs them (a static libstdc++ from
//   GCC 12 would import __libc_single_threaded, GLIBC_2.32, and arc4random,
//   GLIBC_2.36; a static libgcc unwinder _dl_find_object, GLIBC_2.35), and
//   src-native/compat.cc keeps the one GCC 11+ header symbol
//   (std::__throw_bad_array_new_length, GLIBCXX_3.4.29) out, so GCC 8's
//   libstdc++ (RHEL 8, Debian 10) is enough. The glibc floor is 2.28: nothing
//   imported is versioned later (x64 needs 2.14, arm64 2.17).
// - musl: the same libc-neutral build plus no _FILE_OFFSET_BITS=64 (on LP64 it
//   changes nothing but the names: open instead of the LFS64 alias open64,
//   which musl 1.2.4 dropped from its API). Every undefined symbol must then be
//   in musl's libc.so, libstdc++/libgcc_s or Node; musl's own loader checks it.
// - arm64: cross-compiled with aarch64-linux-gnu-g++ (crossbuild-essential-arm64).
// Builds run in a fixed staging directory with -ffile-prefix-map, so the
// output does not depend on where the checkout is: the same toolchain gives
// the same bytes.
'use strict';
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');

const root = join(__dirname, '..');

const COMMON_CXXFLAGS = ['-U_FORTIFY_SOURCE', '-D_FORTIFY_SOURCE=0'];
const COMMON_LDFLAGS = [];
const MUSL_CXXFLAGS = ['-U_FILE_OFFSET_BITS', '-U_LARGEFILE_SOURCE'];

const TOOLCHAINS = {
  x64: { prefix: '', strip: 'strip' },
  arm64: { prefix: 'aarch64-linux-gnu-', strip: 'aarch64-linux-gnu-strip' },
};

/** The four shipped targets, in build order. */
const TARGETS = ['x64', 'arm64'].flatMap((arch) => ['glibc', 'musl'].map((libc) => ({
  name: `${arch}-${libc}`,
  arch,
  libc,
  dir: `linux-${arch}`,
  file: `tcp-vitals.${libc}.node`,
  cxxflags: [...COMMON_CXXFLAGS, ...(libc === 'musl' ? MUSL_CXXFLAGS : [])],
  ldflags: COMMON_LDFLAGS,
})));

/**
 * sha256 over binding.gyp, every file in src-native/, in byte order of their
 * names, and the build recipe (flags) of the targets in `dir` (e.g. linux-x64).
 */
function sourceHash(dir = `${process.platform}-${process.arch}`) {
  const hash = createHash('sha256');
  const files = ['binding.gyp', ...readdirSync(join(root, 'src-native')).sort().map((f) => join('src-native', f))];
  for (const f of files) {
    hash.update(f + '\0');
    hash.update(readFileSync(join(root, f)));
  }
  for (const t of TARGETS.filter((x) => x.dir === dir)) hash.update(JSON.stringify([t.name, t.cxxflags, t.ldflags]) + '\0');
  return hash.digest('hex');
}

/** Builds one target into prebuilds/<dir>/<file>. */
function build(t) {
  const tc = TOOLCHAINS[t.arch];
  const stage = join(tmpdir(), `tcp-vitals-prebuild-${t.name}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  cpSync(join(root, 'binding.gyp'), join(stage, 'binding.gyp'));
  cpSync(join(root, 'src-native'), join(stage, 'src-native'), { recursive: true });
  cpSync(join(root, 'package.json'), join(stage, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
  const env = {
    ...process.env,
    CC: `${tc.prefix}gcc`,
    CXX: `${tc.prefix}g++`,
    LINK: `${tc.prefix}g++`,
    AR: `${tc.prefix}ar`,
    CXXFLAGS: [...t.cxxflags, `-ffile-prefix-map=${stage}=.`, `-ffile-prefix-map=${root}=.`].join(' '),
    CFLAGS: [...t.cxxflags, `-ffile-prefix-map=${stage}=.`].join(' '),
    LDFLAGS: t.ldflags.join(' '),
    SOURCE_DATE_EPOCH: '0',
  };
  // The running Node's own headers when it has them (offline; N-API headers are the same for every target).
  const prefix = join(dirname(process.execPath), '..');
  if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
  const out = join(root, 'prebuilds', t.dir);
  mkdirSync(out, { recursive: true });
  rmSync(join(out, t.file), { force: true });
  execFileSync(process.execPath, [
    require.resolve('prebuildify/bin.js'), '--napi', '--strip', '--strip-bin', tc.strip, '--arch', t.arch,
    '--libc', t.libc, '--tag-libc', '--out', root, '--cwd', stage,
  ], { cwd: stage, env, stdio: 'inherit' });
  rmSync(stage, { recursive: true, force: true });
}

if (require.main === module) {
  const only = process.argv.slice(2);
  const unknown = only.filter((n) => !TARGETS.some((t) => t.name === n));
  if (unknown.length) {
    console.error(`build:prebuild: unknown target ${unknown.join(', ')} (targets: ${TARGETS.map((t) => t.name).join(', ')})`);
    process.exit(2);
  }
  const chosen = TARGETS.filter((t) => only.length === 0 || only.includes(t.name));
  for (const t of chosen) build(t);
  for (const dir of new Set(chosen.map((t) => t.dir))) {
    // Only the four tagged files: drop an untagged or stale one.
    const keep = new Set(TARGETS.filter((t) => t.dir === dir).map((t) => t.file));
    for (const f of readdirSync(join(root, 'prebuilds', dir))) if (!keep.has(f)) rmSync(join(root, 'prebuilds', dir, f));
    writeFileSync(join(root, 'prebuilds', `${dir}.source-sha256`), sourceHash(dir) + '\n');
  }
  console.log(`build:prebuild: built ${chosen.map((t) => `prebuilds/${t.dir}/${t.file}`).join(', ')}; `
    + 'check with node scripts/check-prebuilds.js, then commit prebuilds/');
}

module.exports = { sourceHash, TARGETS };
