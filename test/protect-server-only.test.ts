/**
 * A process that only serves (never connects out itself) under
 * protect({ servers: true }): its accepted sockets leave protect()'s table and
 * the connection registry when they close. Before, the TCP handle hooks were
 * installed only by the first outbound connect, so in such a process closed
 * sockets stayed protected and registered until their fd number was reused.
 * Real loopback sockets; the server runs in a child process of its own.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

test('closed accepted sockets are released in a process that never connects out', () => {
  const r = spawnSync(process.execPath, [join(__dirname, 'fixtures', 'protect-server-only.js')], { encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).toBe('');
  const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  expect(report).toEqual({ during: 20, after: { protectedNow: 0, registered: 0, closed: 20 } });
});
