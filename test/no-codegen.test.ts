/**
 * The package works under `node --disallow-code-generation-from-strings`
 * (the tcp_info decoder is generated at build time, not with `new Function`):
 * a child process runs a real loopback connection through tcpInfo,
 * decodeTcpInfo, deadlines, watch and failFast.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

test('tcpInfo, watch and failFast work with code generation from strings disallowed', () => {
  const r = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', join(__dirname, 'fixtures', 'no-codegen-child.js')], {
    encoding: 'utf8', timeout: 60_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  expect(out.codegenBlocked).toBe(true); // the flag really is in force in the child
  expect(out.syncError).toBeUndefined();
  expect(out.state).toBe('ESTABLISHED');
  expect(out.length).toBeGreaterThanOrEqual(104);
  // 8 header-only properties, then more at each longer length; none decoded twice.
  expect(out.decodedLengths[0]).toBe(8 + 4); // state, stateNumber, length, 4 bit fields + caState..options
  expect(out.decodedLengths).toEqual([...out.decodedLengths].sort((a: number, b: number) => a - b));
  expect(out.deadlines).toBe('number');
  expect(out.samples).toBeGreaterThanOrEqual(2);
  // The peer's reset of the paused socket, found by the engine's deathwatch: Node's own ECONNRESET.
  expect(out.error).toEqual({ peerGone: false, instance: false, code: 'ECONNRESET' });
});
