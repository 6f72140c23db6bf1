/**
 * Turning what the kernel knows into a death the application sees.
 *
 * - Kernel verdicts (TCP_USER_TIMEOUT, keepalive, a reset) arrive through the
 *   deathwatch (one epoll set, one uv_poll): the socket is destroyed in the
 *   same loop iteration, whether or not Node is reading it.
 * - What the kernel never signals in time: a socket with data outstanding.
 *   The kernel counts TCP_USER_TIMEOUT from the first retransmission, so a
 *   connection that was idle when the peer vanished and is written to later
 *   would die `timeout` after the write. Written-to sockets are "armed" and
 *   polled (tcp_info, one batch read per tick) until everything they sent is
 *   acknowledged; one whose peer has been silent (no ACK, no data) for
 *   `timeout` is declared dead then.
 *
 * Deaths are PeerGoneErrors (code ETIMEDOUT) with `silentMs`, or for a reset
 * seen on a socket Node is not reading, Node's own ECONNRESET shape.
 */
import * as net from 'node:net';
import { native } from '../../kernel/binding';
import { applyFd, openDeathwatch, ProtectKernelOptions } from '../../kernel/deathwatch';
import { DeathReason, markPeerGone, peerGoneError, PeerGoneError, systemError } from '../../common/errors';
import { timeoutPath } from '../../model/reason';
import { unacknowledgedOfSocket } from '../../runtime/accounting';
import { describeDeath, silentFrom } from '../../runtime/death';
import { RECORD_STRIDE, readOne, Registration, Sample, scheduler } from '../../runtime/scheduler';
import { ownerOf } from '../../runtime/process-hooks';
import { TCP_INFO_OFFSETS, TCP_STATE } from '../../kernel/tcpinfo';
import { ARMED, Table } from './table';

const C = native.constants;
const ETIMEDOUT = C.ETIMEDOUT;
const OFF = {
  retransmits: TCP_INFO_OFFSETS.retransmits, probes: TCP_INFO_OFFSETS.probes, sndWnd: TCP_INFO_OFFSETS.sndWnd,
  bytesAcked: TCP_INFO_OFFSETS.bytesAcked,
};

/** Errors this package built, so a death is counted and published once. */
export const ownErrors = new WeakSet<Error>();

/** Whoever owns a table: gets the deaths to count and publish. */
export interface DetectorOwner {
  readonly table: Table;
}

const owners = new Set<DetectorOwner>();
const soError = Buffer.alloc(4);

/** Bytes written and not acknowledged (the one formula: exact for plain TCP, an upper bound for TLS). */
function unacknowledged(socket: net.Socket, s: Sample | null): number {
  return unacknowledgedOfSocket(socket, s && s.has(OFF.bytesAcked, 8) ? s.u64(OFF.bytesAcked) : -1, s ? s.sendQueue : -1);
}

/** The death path of a connection the kernel timed out (the one classifier, model/reason). */
function reasonFrom(s: Sample | null, connectPath: boolean): DeathReason {
  if (connectPath) return 'retransmit';
  if (!s) return 'kernel';
  return timeoutPath(null, {
    state: s.state, sendQueue: s.sendQueue, unsent: s.unsent, retransmits: s.u8(OFF.retransmits),
    probes: s.u8(OFF.probes), sndWnd: s.has(OFF.sndWnd, 4) ? s.u32(OFF.sndWnd) : undefined,
  }) ?? 'kernel';
}

function socketAt(t: Table, fd: number): net.Socket | null {
  const h = t.handles[fd];
  if (!h) return null;
  return ownerOf(h as object) ?? t.sockets[fd] ?? null;
}

/** The epoll verdict for `fd` (registered with `tag`): destroy its socket if the kernel aborted the connection. */
function onVerdict(fd: number, tag: number, _revents: number): void {
  for (const o of owners) {
    const t = o.table;
    if (t.handles[fd] === undefined || t.tags[fd] !== tag) continue;
    const socket = socketAt(t, fd);
    // A socket still connecting is left to libuv's connect watcher (always
    // active): reading SO_ERROR here would turn a refused attempt into a success.
    if (!socket || socket.destroyed || socket.connecting) return;
    const s = readOne(fd); // the tag matched: still the socket that was registered
    if (native.getsockopt(fd, C.SOL_SOCKET, C.SO_ERROR, soError) < 0) return;
    const err = soError.readInt32LE(0);
    if (err <= 0) return; // an orderly hang-up: Node reads the EOF when it reads
    let error: Error;
    if (err === ETIMEDOUT) {
      const silentMs = s ? silentFrom(s) : 0;
      const reason = reasonFrom(s, false);
      const e = peerGoneError(reason, unacknowledged(socket, s),
        `the kernel gave up on the peer (${reason}), silent for ${silentMs} ms`);
      e.silentMs = silentMs;
      error = describeDeath(e, s);
    } else {
      error = systemError(err, 'read');
    }
    ownErrors.add(error);
    socket.destroy(error);
    return;
  }
}

/**
 * Sockets with data outstanding, polled until it is acknowledged. Each entry
 * carries the table tag it was armed with; a socket that closes is taken off
 * the list at once (`disarm`), so the batch read never sees a closed or
 * reused fd number and needs no SO_COOKIE check.
 */
export class ArmedPoller {
  private fds = new Int32Array(64);
  private tags = new Int32Array(64);
  /** Position + 1 of each fd in the list, 0 when not listed. */
  private at = new Int32Array(256);
  private count = 0;
  private out = Buffer.alloc(64 * RECORD_STRIDE);
  private readonly sample = new Sample();
  /** Its task on the one shared scheduler (no timer of its own). */
  private task: Registration | null = null;
  private period = 1000;

  constructor(private readonly table: Table, private readonly intervalFor: (timeout: number) => number) {}

  get size(): number { return this.count; }

  arm(fd: number): void {
    const t = this.table;
    if ((t.flags[fd] & ARMED) !== 0) return;
    t.flags[fd] |= ARMED;
    if (this.count === this.fds.length) {
      const f = new Int32Array(this.count * 2); f.set(this.fds); this.fds = f;
      const g = new Int32Array(this.count * 2); g.set(this.tags); this.tags = g;
      this.out = Buffer.alloc(this.count * 2 * RECORD_STRIDE);
    }
    if (fd >= this.at.length) {
      let size = this.at.length;
      while (size <= fd) size *= 2;
      const a = new Int32Array(size); a.set(this.at); this.at = a;
    }
    this.fds[this.count] = fd;
    this.tags[this.count] = t.tags[fd];
    this.count++;
    this.at[fd] = this.count;
    const p = this.intervalFor(t.timeouts[fd]);
    if (!this.task || p < this.period) this.start(p);
  }

  private start(period: number): void {
    this.period = period;
    if (this.task) this.task.setInterval(period);
    else this.task = scheduler.addTask(period, { run: () => this.tick() });
  }

  /** `fd` is closing: off the list now (the last entry takes its place). */
  disarm(fd: number): void {
    const i = fd < this.at.length ? this.at[fd] - 1 : -1;
    if (i < 0) return;
    this.at[fd] = 0;
    this.table.flags[fd] &= ~ARMED;
    const last = --this.count;
    if (i !== last) {
      const moved = this.fds[last];
      this.fds[i] = moved;
      this.tags[i] = this.tags[last];
      this.at[moved] = i + 1;
    }
  }

  stop(): void {
    this.task?.remove();
    this.task = null;
    for (let i = 0; i < this.count; i++) { this.table.flags[this.fds[i]] &= ~ARMED; this.at[this.fds[i]] = 0; }
    this.count = 0;
  }

  /** Reads every armed socket once; keeps those still owed an ACK. */
  tick(): void {
    const t = this.table;
    const n = this.count;
    if (n === 0) { this.stop(); return; }
    native.readBatch(this.fds, null, n, this.out, RECORD_STRIDE);
    const s = this.sample;
    s.buf = this.out;
    let kept = 0;
    const dead: number[] = [];
    for (let i = 0; i < n; i++) {
      const fd = this.fds[i];
      s.base = i * RECORD_STRIDE;
      // An entry left by a socket whose fd number was reused since: drop it, leave the new one's flag alone.
      const current = t.handles[fd] !== undefined && this.tags[i] === t.tags[fd];
      this.at[fd] = 0;
      let keep = false;
      if (s.errno === 0 && current && (t.flags[fd] & ARMED) !== 0) {
        const state = s.state;
        if (state === TCP_STATE.SYN_SENT) keep = true;
        else if (state !== TCP_STATE.CLOSE && s.sendQueue > 0) {
          keep = true;
          if (silentFrom(s) >= t.timeouts[fd]) { dead.push(fd); keep = false; }
        }
      }
      if (keep) {
        this.fds[kept] = fd;
        this.tags[kept] = this.tags[i];
        kept++;
        this.at[fd] = kept;
      } else if (current) {
        t.flags[fd] &= ~ARMED;
      }
    }
    this.count = kept;
    for (const fd of dead) this.silent(fd);
    if (kept === 0) this.stop();
  }

  /** The peer of `fd` has been silent for its timeout with data outstanding. */
  private silent(fd: number): void {
    const t = this.table;
    const socket = socketAt(t, fd);
    if (!socket || socket.destroyed) return;
    const s = readOne(fd);
    if (!s) return;
    const silentMs = silentFrom(s);
    const unsentOnly = s.unsent > 0 && s.unsent >= s.sendQueue;
    const reason: DeathReason = unsentOnly ? (s.u32(OFF.sndWnd) === 0 ? 'zero-window' : 'unsent') : 'retransmit';
    const e = peerGoneError(reason, unacknowledged(socket, s),
      `no ACK or data from the peer for ${silentMs} ms with ${s.sendQueue} bytes outstanding`);
    e.silentMs = silentMs;
    describeDeath(e, s);
    ownErrors.add(e);
    socket.destroy(e);
  }
}

/** Starts delivering kernel verdicts for `owner`'s table. */
export function addDetectorOwner(owner: DetectorOwner): void {
  openDeathwatch(onVerdict);
  owners.add(owner);
}

/** Stops delivering kernel verdicts for `owner`. */
export function removeDetectorOwner(owner: DetectorOwner): void {
  owners.delete(owner);
}

/**
 * Node got the kernel's ETIMEDOUT itself (read, write or connect): add what
 * protect() knows (`reason`, `silentMs`, `unacknowledgedBytes`) in place,
 * before any 'error' listener sees it.
 */
export function augmentKernelError(err: PeerGoneError & { syscall?: string }, socket: net.Socket, fd: number, since: number): void {
  const s = readOne(fd);
  const connectPath = err.syscall === 'connect' || (s !== null && s.state === TCP_STATE.SYN_SENT);
  err.silentMs = connectPath || !s ? Math.round(performance.now() - since) : silentFrom(s);
  describeDeath(markPeerGone(err, reasonFrom(s, connectPath), unacknowledged(socket, s)), s);
}

/** Re-applies the options after a client's setKeepAlive. */
export function reapply(fd: number, o: ProtectKernelOptions): number {
  return applyFd(fd, o);
}
