/**
 * The demo's server (runs inside namespace B): accepts connections and
 * reads and discards everything. argv: HOST PORT. Reports over IPC.
 */
import * as net from 'node:net';

const [host, port] = [process.argv[2], Number(process.argv[3])];
const server = net.createServer((socket) => {
  socket.on('error', () => { /* the demo kills this host; errors are expected */ });
  socket.resume();
});
server.listen(port, host, () => process.send?.({ type: 'listening' }));
process.on('disconnect', () => process.exit(0));
