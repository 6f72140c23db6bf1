/**
 * diagnose(target): is it the network or the peer? Reads tcp_info and the
 * queue sizes of a socket once and returns the verdict of
 * {@link diagnoseReading} with its evidence in plain words. Meant for a
 * client's own timeout handler: "server application silent for 4.2 s;
 * network fine" instead of a bare "timeout".
 */
import * as net from 'node:net';
import type { Target } from '../kernel/fd';
import { queues } from '../kernel/sockopt';
import { tcpInfo } from '../kernel/tcpinfo';
import { Diagnosis, diagnoseReading, DiagnoseOptions, idleAfterOf } from '../model/diagnose';

/**
 * The verdict of one reading of `target` (a connected socket or its fd):
 * 'network', 'peer-not-reading', 'peer-app-silent', 'idle', 'healthy' or
 * 'closed'. A destroyed socket is 'closed' (no syscall). Throws like
 * tcpInfo()/queues() otherwise (ERR_SOCKET_NOT_CONNECTED before connect,
 * `ioctl EINVAL` for a listening socket, `ENOTSUP` for a non-TCP fd).
 * @throws ERR_INVALID_ARG_TYPE (options not an object, idleAfterMs not a number),
 *   ERR_OUT_OF_RANGE (idleAfterMs NaN, negative or infinite).
 */
export function diagnose(target: Target, options: DiagnoseOptions = {}): Diagnosis {
  const idleAfterMs = idleAfterOf(options); // bad options throw before any syscall
  const now = Date.now();
  if (target instanceof net.Socket && target.destroyed) {
    return {
      verdict: 'closed', evidence: 'the socket is destroyed', durationMs: null, since: null, state: 'CLOSE',
      unacknowledgedBytes: 0, unsentBytes: 0, receiveQueueBytes: 0, retransmits: 0, lastHeardMs: 0,
    };
  }
  const info = tcpInfo(target);
  return diagnoseReading(info, queues(target), now, { idleAfterMs });
}
