/**
 * queues() against a peer that stops reading: the sender's queue fills and
 * holds unsent bytes, the receiver's queue holds what arrived unread, and the
 * numbers agree exactly with tcp_info's counters and Node's own byte counts.
 */
import * as net from 'node:net';
import { setOptions } from '../lib/kernel/options';
import { queues } from '../lib/kernel/sockopt';
import { tcpInfo } from '../lib/kernel/tcpinfo';
import { LoopbackPair, loopbackPair, sleep, waitUntil } from './helpers/loopback';

/** Reads queues and tcp_info until two consecutive reads agree (the kernel may still be moving bytes). */
async function quiet(socket: net.Socket) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const a = queues(socket);
    const info = tcpInfo(socket);
    const b = queues(socket);
    const info2 = tcpInfo(socket);
    if (JSON.stringify(a) === JSON.stringify(b) && info.bytesAcked === info2.bytesAcked && info.notsentBytes === info2.notsentBytes) {
      return { q: a, info };
    }
    await sleep(50);
  }
  throw new Error('queues never settled');
}

describe('queues against a peer that stops reading', () => {
  let pair: LoopbackPair;
  let peerRead = 0;
  const total = 4 * 1024 * 1024;

  beforeAll(async () => {
    // pauseOnConnect: the accepted socket's handle does not read at all, so
    // every byte that arrives stays in the kernel's receive queue.
    // Small, locked buffers: the peer's window closes after a few tens of KB
    // and the client's kernel queue then holds bytes it cannot send. The
    // receive buffer is set on the listener, so the accepted socket has it
    // from its first SYN-ACK (shrinking it after a larger window was
    // advertised makes the kernel drop data and the sender retransmit).
    pair = await loopbackPair({
      serverOptions: { pauseOnConnect: true },
      beforeConnect: (server) => setOptions(server, { receiveBuffer: 16 * 1024 }),
    });
    pair.peer.on('data', (d: Buffer) => { peerRead += d.length; });
    setOptions(pair.client, { sendBuffer: 64 * 1024 });
    pair.client.write(Buffer.alloc(total, 0x61));
    // Wait until the client's queue stops growing with bytes still unsent.
    let last = -1;
    for (let i = 0; i < 100; i++) {
      await sleep(50);
      const q = queues(pair.client);
      if (q.unsent > 0 && q.sendQueue === last) break;
      last = q.sendQueue;
    }
  });
  afterAll(() => pair.close());

  test('the sender holds unsent bytes; unsent equals tcpInfo.notsentBytes', async () => {
    const { q, info } = await quiet(pair.client);
    expect(q.sendQueue).toBeGreaterThan(0);
    expect(q.unsent).toBeGreaterThan(0);
    expect(q.unsent).toBeLessThanOrEqual(q.sendQueue);
    expect(q.unacknowledged).toBe(q.sendQueue - q.unsent);
    expect(q.unsent).toBe(info.notsentBytes);
    // Receive queue of the sender: nothing came back.
    expect(q.receiveQueue).toBe(0);
    // In flight = sent - acknowledged, exactly. bytes_sent also counts
    // retransmissions (loopback retransmits when the machine is busy).
    const acknowledged = info.bytesAcked! - 1; // the client's SYN takes one sequence number
    expect(q.unacknowledged).toBe(info.bytesSent! - info.bytesRetrans! - acknowledged);
    // The kernel holds part of what was written; Node's userland buffer holds
    // the rest (writableLength also counts the part of the current chunk that
    // the kernel already took, so it is an upper bound).
    expect(q.sendQueue + acknowledged).toBeLessThan(total);
    expect(pair.client.writableLength + q.sendQueue + acknowledged).toBeGreaterThanOrEqual(total);
  });

  test('the receiver\'s queue holds exactly the bytes that arrived unread', async () => {
    const { q: peerQ, info: peerInfo } = await quiet(pair.peer);
    const clientInfo = tcpInfo(pair.client);
    expect(peerQ.receiveQueue).toBeGreaterThan(0);
    expect(peerQ.receiveQueue).toBe(peerInfo.bytesReceived! - peerRead);
    expect(peerInfo.bytesReceived).toBe(clientInfo.bytesAcked! - 1);
    expect(peerQ.sendQueue).toBe(0);
    expect(peerQ.unsent).toBe(0);
  });

  test('when the peer reads again, every queue drains to zero', async () => {
    pair.peer.resume();
    await waitUntil(() => peerRead === total, 20_000, 'the peer to read everything');
    await waitUntil(() => queues(pair.client).sendQueue === 0 && queues(pair.peer).receiveQueue === 0, 5000, 'empty queues');
    expect(queues(pair.client)).toEqual({ sendQueue: 0, unsent: 0, unacknowledged: 0, receiveQueue: 0 });
    expect(tcpInfo(pair.client).bytesAcked).toBe(total + 1);
  });
});

describe('queues in other states', () => {
  test('an idle connection is all zero; five unread bytes are receiveQueue 5', async () => {
    const pair = await loopbackPair({ serverOptions: { pauseOnConnect: true } });
    try {
      expect(queues(pair.client)).toEqual({ sendQueue: 0, unsent: 0, unacknowledged: 0, receiveQueue: 0 });
      pair.client.write('hello');
      await waitUntil(() => queues(pair.client).sendQueue === 0, 5000, 'the ACK');
      await waitUntil(() => queues(pair.peer).receiveQueue === 5, 5000, 'five bytes at the peer');
      expect(pair.peer.readableLength).toBe(0); // still in the kernel, not in Node
    } finally {
      await pair.close();
    }
  });

  test('a listening socket has no queues: ioctl EINVAL', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      expect(() => queues(server)).toThrow(expect.objectContaining({ code: 'EINVAL', errno: -22, syscall: 'ioctl' }));
    } finally {
      server.close();
    }
  });
});
