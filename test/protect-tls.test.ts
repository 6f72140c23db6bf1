/**
 * The preload and TLS sockets (no root: loopback only). A process whose first
 * outbound TCP connection is a TLS one (tls.connect, https.Agent) gets the
 * options on it, read back from the kernel; failFast() on a protected
 * TLSSocket takes it over (protect() stops re-applying its own options on
 * setKeepAlive). Regression: a TLSSocket's `_handle` is a TLSWrap, which (Node
 * 18 to 24) has an `fd` of its own (-1 before connect, its parent's after); the
 * hooks took it for the TCP handle, so TCP.prototype was never wrapped by a
 * TLS-first process, and a protected TLS socket's writes, errors and hand-over
 * were looked up under the wrong handle.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REGISTER, registerUnavailableReason } from './helpers/preload';
import { opensslUnavailableReason, selfSignedCert, TestCert } from './helpers/tls';

const FIXTURE = join(__dirname, 'fixtures', 'protect-tls.js');
/** TCP_VITALS_TIMEOUT=4s: TCP_USER_TIMEOUT 3800 ms, TCP_KEEPIDLE 2 s (as test/register.test.ts reads them). */
const PROTECTED = { userTimeout: 3800, keepAlive: true, keepAliveIdle: 2000 };

/** This Node plus every binary in TCP_VITALS_TEST_NODES (comma-separated paths; .ci/run installs 18 and 24). */
const nodes: string[] = [process.execPath, ...(process.env.TCP_VITALS_TEST_NODES ?? '').split(',').filter(Boolean)];

let cert: TestCert;
beforeAll(() => {
  for (const why of [registerUnavailableReason(), opensslUnavailableReason()]) if (why) throw new Error(why);
  cert = selfSignedCert('127.0.0.1');
});
afterAll(() => cert?.remove());

interface Report {
  errors: string[];
  options: unknown;
  registered: boolean;
  afterFailFast?: { userTimeout: number };
  afterKeepAlive?: { userTimeout: number; keepAliveIdle: number };
  stats: { protectedNow: number; handedOver: number; failed: number };
}

function runMode(node: string, mode: string): Report {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TCP_VITALS_') || k === 'NODE_OPTIONS') delete env[k];
  const r = spawnSync(node, ['--require', REGISTER, FIXTURE, mode, cert.certPath, cert.keyPath],
    { env: { ...env, TCP_VITALS_TIMEOUT: '4s' }, encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`${mode}: no report (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  return JSON.parse(line) as Report;
}

describe.each(nodes)('TLS under the preload with %s', (node) => {
  test.each(['tls.connect', 'https.Agent'])('a process whose first connection is %s: the options are on its fd and it is registered', (mode) => {
    expect(existsSync(node)).toBe(true);
    const r = runMode(node, mode);
    expect({ errors: r.errors, options: r.options, registered: r.registered })
      .toEqual({ errors: [], options: PROTECTED, registered: true });
    expect(r.stats).toMatchObject({ protectedNow: 1, failed: 0 });
  });

  test('failFast() on a protected TLSSocket takes it over: setKeepAlive() no longer brings protect()\'s options back', () => {
    const r = runMode(node, 'failFast');
    expect(r.errors).toEqual([]);
    expect(r.options).toEqual(PROTECTED);
    expect(r.afterFailFast?.userTimeout).not.toBe(PROTECTED.userTimeout);
    expect(r.afterKeepAlive?.userTimeout).toBe(r.afterFailFast?.userTimeout);
    expect(r.stats.handedOver).toBe(1);
  });
});
