#!/usr/bin/env node
// Bundles the preload (dist/register.js, as tsc emitted it) into one file, in place.
//
// Why: `node --require tcp-vitals/register` otherwise loads about 55 modules
// one by one. Resolving their paths made V8 optimize Node's own path
// functions at start-up (its compiler's memory stayed: +4 MB of RSS), and
// each module costs parse and compile memory: the preload was +7.6 MB of RSS
// at start-up, bundled it is about +2 MB (BENCHMARKS.md section 5).
//
// The bundle is a copy of the modules it contains: an application that also
// requires 'tcp-vitals' has two copies, which share their process-wide state
// by Symbol.for keys, as any two loaded copies do (runtime/shared.ts,
// runtime/process-hooks.ts). node-gyp-build stays external; the addon is
// found from dist/ (kernel/binding.ts). Source maps follow tsc's back to lib/.
'use strict';
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const out = path.join(root, 'dist', 'register.js');

esbuild.buildSync({
  entryPoints: [out],
  outfile: out,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  external: ['node-gyp-build'],
  sourcemap: true,
  logLevel: 'warning',
});
