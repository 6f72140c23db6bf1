/**
 * pg against a real PostgreSQL whose host vanishes (no FIN, no RST): with
 * failFast on the client's socket a query fails within the timeout with
 * failFast's error; without it, the query is still pending at the bound.
 */
import { ADDR_B } from './helpers/netns';
import { postgresUnavailableReason, startPostgres } from './helpers/servers';
import { describeVanishedServer } from './helpers/vanish-client';

describeVanishedServer({
  title: 'pg: a query to a vanished PostgreSQL',
  label: 'pg',
  client: 'pg-client.js',
  port: 5432,
  unavailable: postgresUnavailableReason,
  start: (pair) => startPostgres(pair.b, ADDR_B, '10.213.7.0/24', 5432),
  startTimeoutMs: 60_000,
  readyValue: 1,
  checkResult(result) {
    // pg rejects the active query with the socket's error: failFast's own.
    expect(result.code).toBe('ETIMEDOUT');
    expect(result.reason).toBe('retransmit');
    expect(result.unacknowledgedBytes).toBeGreaterThan(0);
  },
});
