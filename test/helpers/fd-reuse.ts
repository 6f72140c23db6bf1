/**
 * Runs a script in a child Node process that opens loopback socket `a`, lets
 * `beforeClose` look at it (first sight), closes its fd behind Node's back
 * (a.pause(); fs.closeSync(fd)), connects until a new socket `b` gets the same
 * fd number (bounded: 20 tries; b stays null otherwise), runs `afterReuse` and prints the JSON of
 * `report`. In a child because destroying `a` would close the fd number again,
 * now b's. The script sees net, fs, fdOf, fd, a, b, codeOf(f) (null, or the
 * thrown error's `code syscall`) and whatever `prelude` requires.
 */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';

export const DIST = join(__dirname, '..', '..', 'dist');

export function runFdReuseChild(prelude: string, beforeClose: string, report: string, afterReuse = ''): SpawnSyncReturns<string> {
  const script = `
    const net = require('net');
    const fs = require('fs');
    const { fdOf } = require(${JSON.stringify(join(DIST, 'kernel', 'fd'))});
    ${prelude}
    const codeOf = (f) => { try { f(); return null; } catch (e) { return e.code + ' ' + e.syscall; } };
    const srv = net.createServer((p) => p.resume()).listen(0, '127.0.0.1', () => {
      const a = net.connect(srv.address().port, '127.0.0.1', async () => {
        const fd = fdOf(a);
        ${beforeClose}
        a.pause();
        fs.closeSync(fd);
        let b = null;
        for (let i = 0; i < 20; i++) {
          const c = net.connect(srv.address().port, '127.0.0.1');
          await new Promise((r) => c.once('connect', r));
          if (fdOf(c) === fd) { b = c; break; }
        }
        ${afterReuse}
        console.log(JSON.stringify(${report}));
        process.exit(0);
      });
    });`;
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
}
