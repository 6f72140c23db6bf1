/**
 * One of the demo's clients (runs inside namespace A): connects, writes a
 * short line every 100 ms, and reports what it sees over IPC every 200 ms.
 * argv: MODE ('plain' | 'failfast') HOST PORT TIMEOUT_MS.
 *   plain:    socket.setKeepAlive(true, 1000), what most services do;
 *   failfast: failFast(socket, { timeout: TIMEOUT_MS }).
 */
import * as net from 'node:net';
import { deadlines } from '../readings/deadlines';
import { failFast } from '../policy/failfast';
import { queues } from '../kernel/sockopt';
import { tcpInfo } from '../kernel/tcpinfo';

const [mode, host, port, timeout] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
const send = (m: object): void => { process.send?.(m); };

const socket = net.connect({ host, port });
socket.setNoDelay(true);
if (mode === 'failfast') failFast(socket, { timeout });
else socket.setKeepAlive(true, 1000);

let writes = 0;
let writesDone = 0;
let writer: NodeJS.Timeout | undefined;
let reporter: NodeJS.Timeout | undefined;

function report(): void {
  if (socket.destroyed) return;
  try {
    const info = tcpInfo(socket);
    const q = queues(socket);
    send({
      type: 'tick', writes, writesDone, unacknowledged: q.sendQueue + socket.writableLength,
      retransmits: info.totalRetrans, rtoMs: info.rto / 1000, state: info.state,
    });
  } catch { /* socket closing */ }
}

socket.on('connect', () => {
  // What the kernel of this namespace will do for the plain client (deadline model).
  let model: object | undefined;
  if (mode === 'plain') {
    const d = deadlines(socket);
    model = { whileSendingMs: d.whileSending, retries2: d.inputs.retries2 };
  }
  send({ type: 'connected', deadlines: model });
  writer = setInterval(() => {
    writes++;
    socket.write(`ping ${String(writes).padStart(6, '0')}\n`, (err) => { if (!err) writesDone++; });
  }, 100);
  reporter = setInterval(report, 200);
});
socket.resume();
socket.on('error', (err: NodeJS.ErrnoException & { reason?: string; unacknowledgedBytes?: number }) => {
  clearInterval(writer);
  clearInterval(reporter);
  send({ type: 'dead', code: err.code, reason: err.reason, unacknowledgedBytes: err.unacknowledgedBytes, message: err.message });
});
process.on('disconnect', () => process.exit(0));
