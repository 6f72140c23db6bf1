#!/usr/bin/env node
// `npm run prebuild`: builds the shipped N-API binary with prebuildify into
// prebuilds/<platform>-<arch>/ and records a hash of the native sources next
// to it, so test/loading.test.ts can tell when the committed binary is stale.
//
// npm also runs a script named "prebuild" as the pre-hook of "build" (and so
// of every `npm test`). As a hook this does nothing: recompiling on every test
// run would be slow, would rewrite the build/ directory under other running
// tests, and would replace the committed binary that the PREBUILDS_ONLY run
// exists to check.
'use strict';
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { readFileSync, readdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

/** The npm command line that started this script: ['run', 'build'] etc., or null. */
function npmInvocation() {
  let pid = process.ppid;
  for (let depth = 0; depth < 6 && pid > 1; depth++) {
    let args;
    try {
      // npm rewrites its process title, so its cmdline is one space-separated string.
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]+/).filter(Boolean);
    } catch {
      return null;
    }
    const at = args.findIndex((a) => a === 'run' || a === 'run-script');
    if (at >= 0 && args.some((a) => /npm/.test(a))) return args.slice(at);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return null;
}

/** sha256 over binding.gyp and every file in src-native/, in byte order of their names. */
function sourceHash() {
  const hash = createHash('sha256');
  const files = ['binding.gyp', ...readdirSync(join(root, 'src-native')).sort().map((f) => join('src-native', f))];
  for (const f of files) {
    hash.update(f + '\0');
    hash.update(readFileSync(join(root, f)));
  }
  return hash.digest('hex');
}

if (require.main === module) {
  const invocation = npmInvocation();
  if (process.env.npm_lifecycle_event === 'prebuild' && !(invocation && invocation[1] === 'prebuild')) {
    console.log('prebuild: skipped (npm runs it as the pre-hook of build); to rebuild prebuilds/ run: npm run prebuild');
    process.exit(0);
  }
  execFileSync(process.execPath, [require.resolve('prebuildify/bin.js'), '--napi', '--strip'], { cwd: root, stdio: 'inherit' });
  const target = `${process.platform}-${process.arch}`;
  writeFileSync(join(root, 'prebuilds', `${target}.source-sha256`), sourceHash() + '\n');
  console.log(`prebuild: prebuilds/${target} rebuilt; commit prebuilds/`);
}

module.exports = { sourceHash };
