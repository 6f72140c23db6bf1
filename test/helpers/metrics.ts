/**
 * Shared by the metrics integration tests (otel, prometheus): loopback
 * listen/connect, a send queue made to stall until the kernel retransmits, and
 * a count of the native batch reads a collection makes.
 */
import * as net from 'node:net';
import { native } from '../../lib/kernel/binding';
import { queues } from '../../lib/kernel/sockopt';
import { tcpInfo } from '../../lib/kernel/tcpinfo';
import { sleep } from './loopback';

export async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((r) => server.listen(0, host, r));
  return (server.address() as net.AddressInfo).port;
}

export function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, host, () => resolve(c));
    c.once('error', reject);
  });
}

/**
 * The peer does not read: its receive buffer fills, the window closes and
 * data piles up unsent in the client's send queue (a stable state to compare).
 * On loopback the kernel retransmits (once, as measured on 6.18) when the
 * window closes: a non-zero tcpi_total_retrans to cross-check counters with.
 * Every wait is bounded; the caller asserts what it needs.
 */
export async function stallUntilRetransmit(client: net.Socket): Promise<void> {
  client.write(Buffer.alloc(8 * 1024 * 1024));
  for (let i = 0; i < 200 && queues(client).unsent === 0; i++) await sleep(20);
  await sleep(200);
  for (let i = 0; i < 250 && tcpInfo(client).totalRetrans === 0; i++) await sleep(20);
}

/** Runs fn with native.readBatch counted: the count of each call, in order. */
export async function countBatchReads(calls: number[], fn: () => Promise<void>): Promise<void> {
  const original = native.readBatch;
  native.readBatch = (fds, cookies, count, out, stride) => { calls.push(count); return original.call(native, fds, cookies, count, out, stride); };
  try {
    await fn();
  } finally {
    native.readBatch = original;
  }
}
