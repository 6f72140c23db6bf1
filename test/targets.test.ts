/**
 * Every kind of target finds the right fd: net.Socket (IPv4 and IPv6),
 * tls.TLSSocket (client, accepted, and wrapped around an existing socket),
 * net.Server / tls.Server / http.Server, and a raw fd number. "Right" is
 * proven by the two ends' counters matching: what one end had acknowledged
 * is what the other received.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { fdOf } from '../lib/kernel/fd';
import { getOptions, setOptions } from '../lib/kernel/options';
import { queues, socketCookie } from '../lib/kernel/sockopt';
import { tcpInfo } from '../lib/kernel/tcpinfo';
import { hasCommand, sleep, waitUntil } from './helpers/loopback';

/** Both ends of one connection agree: the sender's acknowledged bytes are the receiver's received bytes. */
async function expectSameConnection(client: net.Socket, server: net.Socket): Promise<void> {
  await waitUntil(() => queues(client).sendQueue === 0 && queues(server).sendQueue === 0, 5000, 'quiet connection');
  await sleep(50);
  const c = tcpInfo(client), s = tcpInfo(server);
  expect(c.state).toBe('ESTABLISHED');
  expect(s.state).toBe('ESTABLISHED');
  expect(c.bytesAcked! - 1).toBe(s.bytesReceived); // the client's SYN counts one
  expect(s.bytesAcked).toBe(c.bytesReceived);
  expect(c.bytesReceived).toBeGreaterThan(0);
  expect(socketCookie(client)).not.toBe(socketCookie(server));
}

describe('net.Socket', () => {
  test.each([['127.0.0.1'], ['::1']])('a connection over %s', async (host) => {
    const server = net.createServer((s) => { s.write('pong'); });
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, host, resolve); });
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, host);
    client.on('data', () => {});
    const peer = await accepted;
    client.write('ping');
    try {
      await waitUntil(() => client.bytesRead === 4, 5000, 'pong');
      await expectSameConnection(client, peer);
      const c = tcpInfo(client), s = tcpInfo(peer);
      expect(c.bytesAcked! - 1).toBe(s.bytesReceived);
      expect(c.bytesReceived).toBe(4);
      expect(fdOf(client)).toBeGreaterThan(2);
      expect(tcpInfo(fdOf(client)).bytesAcked).toBe(c.bytesAcked);
    } finally {
      client.destroy();
      peer.destroy();
      server.close();
    }
  });
});

const describeTls = hasCommand('openssl') ? describe : describe.skip;
if (!hasCommand('openssl') && process.env.CI === 'true') {
  test('openssl is needed for the TLS target tests', () => { throw new Error('openssl missing: apt-get install -y openssl'); });
}

describeTls('tls.TLSSocket and tls.Server', () => {
  let dir: string;
  let key: Buffer, cert: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tv-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function tlsPair(wrapExisting: boolean) {
    const server = tls.createServer({ key, cert }, (s) => { s.on('data', (d) => s.write(d)); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const accepted = new Promise<tls.TLSSocket>((resolve) => server.once('secureConnection', resolve));
    let client: tls.TLSSocket;
    let raw: net.Socket | undefined;
    if (wrapExisting) {
      raw = net.connect(port, '127.0.0.1');
      await new Promise((resolve) => raw!.once('connect', resolve));
      client = tls.connect({ socket: raw, ca: cert, servername: 'localhost' });
    } else {
      client = tls.connect({ port, host: '127.0.0.1', ca: cert, servername: 'localhost' });
    }
    await new Promise<void>((resolve, reject) => { client.once('secureConnect', resolve); client.once('error', reject); });
    const peer = await accepted;
    let echoed = 0;
    client.on('data', (d: Buffer) => { echoed += d.length; });
    client.write(Buffer.alloc(10_000, 1));
    await waitUntil(() => echoed === 10_000, 5000, 'the TLS echo');
    return { server, client, peer, raw, close: () => { client.destroy(); peer.destroy(); raw?.destroy(); server.close(); } };
  }

  test('tls.connect(): client and accepted TLSSocket read their own TCP sockets', async () => {
    const p = await tlsPair(false);
    try {
      expect(p.client).toBeInstanceOf(tls.TLSSocket);
      expect(p.peer).toBeInstanceOf(tls.TLSSocket);
      await expectSameConnection(p.client, p.peer);
      // Ciphertext on the wire is more than the 10,000 plaintext bytes.
      expect(tcpInfo(p.client).bytesReceived).toBeGreaterThan(10_000);
      setOptions(p.client, { userTimeout: 3000 });
      expect(getOptions(p.client).userTimeout).toBe(3000);
      expect(tcpInfo(p.server).state).toBe('LISTEN');
    } finally {
      p.close();
    }
  });

  test('tls.connect({ socket }): the TLSSocket and the net.Socket it wraps are the same fd', async () => {
    const p = await tlsPair(true);
    try {
      expect(fdOf(p.client)).toBe(fdOf(p.raw!));
      expect(socketCookie(p.client)).toBe(socketCookie(p.raw!));
      await expectSameConnection(p.client, p.peer);
    } finally {
      p.close();
    }
  });
});

describe('servers and raw fds', () => {
  test('net.Server and http.Server give LISTEN with their backlog; a closed server is refused', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 7 }, resolve));
    expect(tcpInfo(server)).toMatchObject({ state: 'LISTEN', sacked: 7, unacked: 0 });
    const web = http.createServer();
    await new Promise<void>((resolve) => web.listen({ port: 0, host: '127.0.0.1', backlog: 9 }, resolve));
    expect(tcpInfo(web)).toMatchObject({ state: 'LISTEN', sacked: 9 });
    expect(socketCookie(server)).not.toBe(socketCookie(web));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => web.close(() => resolve()));
    expect(() => tcpInfo(server)).toThrow(expect.objectContaining({ code: 'ERR_SERVER_NOT_RUNNING' }));
  });

  test('a raw fd number reads the same socket as the object it came from', async () => {
    const server = net.createServer((s) => { s.write('x'.repeat(1000)); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    client.on('data', () => {});
    try {
      await waitUntil(() => client.bytesRead === 1000, 5000, 'data');
      const fd = fdOf(client);
      expect(socketCookie(fd)).toBe(socketCookie(client));
      const pick = ({ length, state, bytesAcked, bytesReceived, sndMss, rcvWnd }: ReturnType<typeof tcpInfo>) =>
        ({ length, state, bytesAcked, bytesReceived, sndMss, rcvWnd });
      expect(pick(tcpInfo(fd))).toEqual(pick(tcpInfo(client)));
      expect(tcpInfo(fd).bytesReceived).toBe(1000);
      expect(queues(fd)).toEqual(queues(client));
      expect(tcpInfo(fdOf(server)).state).toBe('LISTEN');
    } finally {
      client.destroy();
      server.close();
    }
  });
});
