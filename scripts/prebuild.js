#!/usr/bin/env node
// `npm run build:prebuild`: builds the shipped N-API binary with prebuildify
// into prebuilds/<platform>-<arch>/tcp-vitals.glibc.node (tagged with its libc,
// so node-gyp-build never picks it on musl, where npm builds from source
// instead) and records a hash of the native sources next to it, so
// test/loading.test.ts can tell when the committed binary is stale.
// (Not named `prebuild`: npm would run that as the pre-hook of `build`.)
'use strict';
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { readFileSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

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
  const target = `${process.platform}-${process.arch}`;
  // One binary per target: drop an untagged or stale one before building.
  rmSync(join(root, 'prebuilds', target), { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('prebuildify/bin.js'), '--napi', '--strip', '--tag-libc'], { cwd: root, stdio: 'inherit' });
  writeFileSync(join(root, 'prebuilds', `${target}.source-sha256`), sourceHash() + '\n');
  console.log(`build:prebuild: prebuilds/${target} rebuilt; commit prebuilds/`);
}

module.exports = { sourceHash };
