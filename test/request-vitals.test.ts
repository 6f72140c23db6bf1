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
  const finished: Array<{ resSocketNull: boolean; atFinish: RequestVitals | null; before: TcpInfo; after: TcpInfo }> = [];
  const seen: Array<{ v: RequestVitals | null; v2: RequestVitals | null; before: TcpInfo; after: TcpInfo; unacked: number }> = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const before = tcpInfo(req.socket);
      const v = requestVitals(req);
      const v2 = requestVitals(res);
      const after = tcpInfo(req.socket);
      seen.push({ v, v2, before, after, unacked: queues(req.socket).unacknowledged });
      res.on('finish', () => {
        // Node has detached res.socket here; requestVitals(res) still finds the connection.
        const b = tcpInfo(req.socket);
        const atFinish = requestVitals(res);
        finished.push({ resSocketNull: res.socket === null, atFinish, before: b, after: tcpInfo(req.socket) });
      });
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
    for (let i = 0; i < 300 && finished.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(finished[0].resSocketNull).toBe(true);
    bracket(finished[0].atFinish!, finished[0].before, finished[0].after);
  });

  test('client side: the response and the request while the response arrives; also after res end (res.socket detached); null once the connection is closed', async () => {
    const agent = new http.Agent({ keepAlive: true });
    try {
      const result = await new Promise<{ v: RequestVitals | null; vReq: RequestVitals | null; before: TcpInfo; after: TcpInfo; afterEnd: RequestVitals | null;
        afterEndBracket: [TcpInfo, TcpInfo]; resNull: boolean; socket: net.Socket; res: http.IncomingMessage }>((resolve, reject) => {
        const req = http.get({ port, host: '127.0.0.1', path: '/', agent }, (res) => {
          try {
            // In the response callback the socket is still the response's.
            const socket = res.socket;
            const before = tcpInfo(socket);
            const v = requestVitals(res);
            const vReq = requestVitals(req);
            const after = tcpInfo(socket);
            res.resume();
            // At 'end' a keep-alive agent has already taken the socket back (res.socket is null);
            // the ClientRequest still holds it.
            res.on('end', () => setImmediate(() => {
              const b = tcpInfo(socket);
              const afterEnd = requestVitals(res);
              resolve({ v, vReq, before, after, afterEnd, afterEndBracket: [b, tcpInfo(socket)], resNull: res.socket === null, socket, res });
            }));
          } catch (err) { reject(err); }
        });
        req.on('error', reject);
      });
      bracket(result.v!, result.before, result.after);
      bracket(result.vReq!, result.before, result.after);
      expect(result.resNull).toBe(true);
      bracket(result.afterEnd!, result.afterEndBracket[0], result.afterEndBracket[1]);
      const { socket } = result;
      agent.destroy();
      await new Promise((r) => (socket.destroyed ? r(null) : socket.once('close', r)));
      expect(requestVitals(socket)).toBeNull();
      expect(requestVitals(result.res)).toBeNull();
    } finally {
      agent.destroy();
    }
  });

  test('bad input: a Node-shaped TypeError, never a crash', () => {
    for (const bad of [undefined, null, 42, 'req', {}, []]) {
      expect(() => requestVitals(bad)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    }
    expect(requestVitals({ socket: null })).toBeNull();
    expect(requestVitals({ socket: null, req: { socket: null } })).toBeNull();
    expect(requestVitals(new net.Socket())).toBeNull();
  });
});
