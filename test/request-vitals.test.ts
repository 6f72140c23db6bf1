/**
 * requestVitals() on a real http server (req, res) and on the client side
 * (the response IncomingMessage, the ClientRequest), checked against
 * tcpInfo()/queues() of the same connection.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { requestVitals } from '../lib';
import type { RequestVitals } from '../lib';
import { queues } from '../lib/kernel/sockopt';
import { tcpInfo, TcpInfo } from '../lib/kernel/tcpinfo';

function bracket(v: RequestVitals, before: TcpInfo, after: TcpInfo): void {
  const lo = (k: 'rtt' | 'rttvar' | 'totalRetrans') => Math.min(before[k], after[k]);
  const hi = (k: 'rtt' | 'rttvar' | 'totalRetrans') => Math.max(before[k], after[k]);
  expect(v.rttMs * 1000).toBeGreaterThanOrEqual(lo('rtt'));
  expect(v.rttMs * 1000).toBeLessThanOrEqual(hi('rtt'));
  expect(v.rttMs).toBeGreaterThan(0);
  expect(v.rttvarMs * 1000).toBeGreaterThanOrEqual(lo('rttvar'));
  expect(v.rttvarMs * 1000).toBeLessThanOrEqual(hi('rttvar'));
  expect(v.retransmits).toBeGreaterThanOrEqual(lo('totalRetrans'));
  expect(v.retransmits).toBeLessThanOrEqual(hi('totalRetrans'));
  expect(typeof v.deliveryRate).toBe('number');
  expect(Object.keys(v).sort()).toEqual(['deliveryRate', 'retransmits', 'rttMs', 'rttvarMs', 'unacknowledgedBytes']);
}

describe('requestVitals', () => {
  let server: http.Server;
  let port: number;
  const seen: Array<{ v: RequestVitals | null; v2: RequestVitals | null; before: TcpInfo; after: TcpInfo; unacked: number }> = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const before = tcpInfo(req.socket);
      const v = requestVitals(req);
      const v2 = requestVitals(res);
      const after = tcpInfo(req.socket);
      seen.push({ v, v2, before, after, unacked: queues(req.socket).unacknowledged });
      res.end(JSON.stringify(v));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('server side: req and res give the connection\'s tcp_info facts', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ port, host: '127.0.0.1', path: '/', agent: false }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { b += d; });
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    const { v, v2, before, after, unacked } = seen[0];
    expect(v).not.toBeNull();
    bracket(v!, before, after);
    bracket(v2!, before, after);
    expect(v!.unacknowledgedBytes).toBeGreaterThanOrEqual(0);
    expect(unacked).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(body).rttMs).toBe(v!.rttMs);
  });

  test('client side: the response and the request while the response arrives; null once the socket is detached or closed', async () => {
    const agent = new http.Agent({ keepAlive: true });
    try {
      const result = await new Promise<{ v: RequestVitals | null; vReq: RequestVitals | null; before: TcpInfo; after: TcpInfo; afterEnd: RequestVitals | null; socket: net.Socket }>((resolve, reject) => {
        const req = http.get({ port, host: '127.0.0.1', path: '/', agent }, (res) => {
          try {
            // In the response callback the socket is still the response's.
            const socket = res.socket;
            const before = tcpInfo(socket);
            const v = requestVitals(res);
            const vReq = requestVitals(req);
            const after = tcpInfo(socket);
            res.resume();
            // At 'end' a keep-alive agent has already taken the socket back: res.socket is null.
            res.on('end', () => setImmediate(() => resolve({ v, vReq, before, after, afterEnd: requestVitals(res), socket })));
          } catch (err) { reject(err); }
        });
        req.on('error', reject);
      });
      bracket(result.v!, result.before, result.after);
      bracket(result.vReq!, result.before, result.after);
      expect(result.afterEnd).toBeNull();
      const { socket } = result;
      agent.destroy();
      await new Promise((r) => (socket.destroyed ? r(null) : socket.once('close', r)));
      expect(requestVitals(socket)).toBeNull();
    } finally {
      agent.destroy();
    }
  });

  test('bad input: a Node-shaped TypeError, never a crash', () => {
    for (const bad of [undefined, null, 42, 'req', {}, []]) {
      expect(() => requestVitals(bad)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    }
    expect(requestVitals({ socket: null })).toBeNull();
    expect(requestVitals(new net.Socket())).toBeNull();
  });
});
