/** snapshot(): names, units and values against tcpInfo()/queues() of real loopback sockets. */
import * as net from 'node:net';
import { queues } from '../lib/kernel/sockopt';
import { snapshot } from '../lib/readings/snapshot';
import { SNAPSHOT_METRICS } from '../lib/model/snapshot';
import { tcpInfo } from '../lib/kernel/tcpinfo';

describe('snapshot', () => {
  let server: net.Server;
  const accepted: net.Socket[] = [];
  beforeAll(async () => {
    server = net.createServer((s) => { accepted.push(s); s.pause(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    accepted.forEach((s) => s.destroy());
    await new Promise<void>((r) => server.close(() => r()));
  });

  const connect = async (): Promise<net.Socket> => {
    const c = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => c.once('connect', r));
    return c;
  };

  test('every name is snake_case with a unit and is documented in SNAPSHOT_METRICS', async () => {
    const c = await connect();
    const snap = snapshot(c);
    for (const name of Object.keys(snap)) {
      expect(name).toMatch(/^tcp_[a-z_]+$/);
      expect(SNAPSHOT_METRICS).toHaveProperty(name);
    }
    // this kernel (>= 6.7) fills every optional field
    if (tcpInfo(c).length >= 248) expect(Object.keys(snap).sort()).toEqual(Object.keys(SNAPSHOT_METRICS).sort());
    c.destroy();
  });

  test('values agree with tcpInfo() and queues(), in seconds and bytes; a paused peer shows up in the queues', async () => {
    const c = await connect();
    const big = Buffer.alloc(8 * 1024 * 1024, 'z');
    c.write(big);
    await new Promise((r) => setTimeout(r, 200)); // the peer does not read: queues fill up
    const info = tcpInfo(c);
    const q = queues(c);
    const snap = snapshot(c);
    expect(snap.tcp_state).toBe(info.stateNumber);
    expect(snap.tcp_rtt_seconds).toBeCloseTo(info.rtt / 1e6, 4);
    expect(snap.tcp_rto_seconds).toBeCloseTo(info.rto / 1e6, 4);
    expect(snap.tcp_cwnd_segments).toBe(info.sndCwnd);
    expect(snap.tcp_send_queue_bytes).toBe(q.sendQueue);
    expect(snap.tcp_send_queue_bytes).toBeGreaterThan(0);
    expect(snap.tcp_unsent_bytes + snap.tcp_unacknowledged_bytes).toBe(snap.tcp_send_queue_bytes);
    expect(snap.tcp_userland_queue_bytes).toBe(c.writableLength);
    expect(snap.tcp_userland_queue_bytes).toBeGreaterThan(0);
    expect(snap.tcp_send_window_bytes).toBeGreaterThanOrEqual(0);
    expect(snap.tcp_bytes_acked_total).toBeLessThanOrEqual(big.length + 1);
    c.destroy();
  });

  test('an fd target works and has no userland queue; bad targets throw Node-shaped errors', async () => {
    const c = await connect();
    const fd = (c as unknown as { _handle: { fd: number } })._handle.fd;
    const snap = snapshot(fd);
    expect(snap.tcp_state).toBe(1);
    expect(snap).not.toHaveProperty('tcp_userland_queue_bytes');
    c.destroy();
    expect(() => snapshot(c)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_CLOSED' }));
    expect(() => snapshot('nope' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => snapshot(server)).toThrow(expect.objectContaining({ syscall: 'ioctl', code: 'EINVAL' }));
  });
});
