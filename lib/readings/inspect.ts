/**
 * inspectProcess(pid): every TCP connection of a running process (any
 * language), read from the outside and read-only: its vitals, its options as
 * the kernel holds them, the deadline model with the sysctls of the process's
 * own network namespace, the traps, and a diagnose() verdict.
 */
import { inspectSockets, InspectedOptions, InspectedSocket, SocketAddress } from '../kernel/pidfd';
import { kernelSettingsOf, netnsInode, processName } from '../kernel/proc-net';
import type { KernelSettings } from '../kernel/sysctl';
import { Diagnosis, diagnoseReading } from '../model/diagnose';
import { socketModel, Trap } from '../model/traps';

/** One TCP connection of an inspected process. */
export interface InspectedConnection {
  pid: number;
  /** The process's command name (/proc/PID/comm). */
  command: string;
  /** Descriptor number in that process. */
  fd: number;
  /** SO_COOKIE as a decimal string. */
  cookie: string;
  local: SocketAddress;
  peer: SocketAddress | null;
  /** 'outgoing' when the process connected; 'accepted' when one of its listeners accepted it. */
  direction: 'outgoing' | 'accepted';
  state: string;
  /** Smoothed RTT, ms. */
  rttMs: number;
  /** Retransmission timeout now (with backoff), ms. */
  rtoMs: number;
  unacknowledgedBytes: number;
  unsentBytes: number;
  receiveQueueBytes: number;
  /** Consecutive retransmission timeouts now. */
  retransmits: number;
  /** Segments retransmitted over the connection's life. */
  retransmitsTotal: number;
  /** Time since anything was last heard from the peer, ms. */
  lastHeardMs: number;
  /** The options as the kernel holds them (ms). */
  options: InspectedOptions;
  /** Predicted time until the process gets an error if the peer vanished now, ms (null: never). */
  detection: { whileSendingMs: number | null; whileIdleMs: number | null };
  traps: Trap[];
  diagnosis: Diagnosis;
}

/** What inspectProcess() read from one process. */
export interface ProcessInspection {
  pid: number;
  command: string;
  connections: InspectedConnection[];
  /** Listening TCP sockets (not listed as connections). */
  listening: Array<{ fd: number; local: SocketAddress }>;
  /** Socket descriptors that are not TCP. */
  otherSockets: number;
  /** Whether the process shares this process's network namespace (else its own sysctls were read with setns). */
  sameNetns: boolean;
  /** The sysctls the model used (the process's namespace). */
  settings: Readonly<KernelSettings>;
}

function finite(ms: number): number | null {
  return Number.isFinite(ms) ? Math.round(ms * 10) / 10 : null;
}

function connectionOf(pid: number, command: string, s: InspectedSocket, settings: Readonly<KernelSettings>,
  listeningPorts: Set<string>, now: number): InspectedConnection {
  const q = s.queues ?? { sendQueue: 0, unsent: 0, unacknowledged: 0, receiveQueue: 0 };
  const { deadlines, traps } = socketModel(settings, s.options, s.info);
  return {
    pid,
    command,
    fd: s.fd,
    cookie: s.cookie.toString(),
    local: s.local,
    peer: s.peer,
    direction: listeningPorts.has(`${s.local.address}:${s.local.port}`) || listeningPorts.has(`*:${s.local.port}`) ? 'accepted' : 'outgoing',
    state: s.info.state,
    rttMs: s.info.rtt / 1000,
    rtoMs: s.info.rto / 1000,
    unacknowledgedBytes: Math.max(0, q.unacknowledged),
    unsentBytes: q.unsent,
    receiveQueueBytes: q.receiveQueue,
    retransmits: s.info.retransmits,
    retransmitsTotal: s.info.totalRetrans,
    lastHeardMs: s.info.lastAckRecv,
    options: s.options,
    detection: { whileSendingMs: finite(deadlines.whileSending), whileIdleMs: finite(deadlines.whileIdle) },
    traps,
    diagnosis: diagnoseReading(s.info, q, now),
  };
}

const WILDCARD = new Set(['0.0.0.0', '::']);

/**
 * Inspects process `pid` (see {@link inspectSockets} for the errors: no such
 * process, no ptrace rights). Never changes the process's sockets.
 */
export function inspectProcess(pid: number): ProcessInspection {
  const read = inspectSockets(pid);
  const command = processName(pid);
  const sameNetns = netnsInode(pid) === netnsInode('self');
  const settings = kernelSettingsOf(pid);
  const now = Date.now();
  const listening: ProcessInspection['listening'] = [];
  const ports = new Set<string>();
  for (const s of read.sockets) {
    if (s.info.state !== 'LISTEN') continue;
    listening.push({ fd: s.fd, local: s.local });
    ports.add(WILDCARD.has(s.local.address) ? `*:${s.local.port}` : `${s.local.address}:${s.local.port}`);
  }
  const connections = read.sockets
    .filter((s) => s.info.state !== 'LISTEN')
    .map((s) => connectionOf(pid, command, s, settings, ports, now));
  return { pid, command, connections, listening, otherSockets: read.otherSockets, sameNetns, settings };
}
