/**
 * ioredis against a real redis-server whose host vanishes (no FIN, no RST):
 * with failFast on the connection socket a command fails within the timeout;
 * without it, the same command is still pending when the test's bound ends.
 */
import { ADDR_B } from './helpers/netns';
import { redisUnavailableReason, startRedis } from './helpers/servers';
import { describeVanishedServer } from './helpers/vanish-client';

describeVanishedServer({
  title: 'ioredis: a command to a vanished Redis',
  label: 'ioredis',
  client: 'redis-client.js',
  port: 6379,
  unavailable: redisUnavailableReason,
  start: (pair) => startRedis(pair.b, ADDR_B, 6379),
  startTimeoutMs: 30_000,
  readyValue: 'hello',
  checkResult(result) {
    // ioredis rejects the command itself with its own error (maxRetriesPerRequest);
    // the cause, failFast's error, reached the client's 'error' event.
    expect(result.errors).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'ETIMEDOUT', reason: 'retransmit' })]));
  },
});
