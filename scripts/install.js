#!/usr/bin/env node
// npm's `install` hook. On Linux: node-gyp-build, which uses the prebuild for
// this target (prebuilds/linux-<arch>/tcp-vitals.<glibc|musl>.node) and builds
// from source only when none fits. Elsewhere (macOS, Windows, FreeBSD):
// nothing, so `npm install` needs no compiler and never tries a build there;
// the package still loads (its kernel functions throw
// ERR_TCP_VITALS_UNSUPPORTED_PLATFORM, protect() and register do nothing).
// An install script is needed at all because package.json has
// "gypfile": true: without one, npm would run `node-gyp rebuild` everywhere.
'use strict';
if (process.platform === 'linux') require('node-gyp-build/bin.js');
