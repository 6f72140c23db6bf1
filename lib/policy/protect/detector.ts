/**
 * The engine's detector, for every socket in a {@link Table} (protect()'s and
 * failFast()'s alike):
 * - kernel verdicts (TCP_USER_TIMEOUT, keepalive, a reset) through the
 *   deathwatch (one epoll set, one uv_poll), whether or not Node is reading
 *   (a socket Node reads gets one turn to report it itself, then augmented);
 * - written-to sockets "armed" and polled (one batch read per tick) until
 *   everything they sent is acknowledged, model/death-step judging each
 *   reading: the kernel would count TCP_USER_TIMEOUT from the write's first
 *   retransmission, not from the peer's silence.
 * Errors come from the one builder (runtime/death.ts); a reset is Node's ECONNRESET shape.
 */
import * as net from 'node:net';
import { BatchReader, readOne } from '../../kernel/batch';
import { cookieLow, openDeathwatch, soError } from '../../kernel/deathwatch';
import { handleOf } from '../../kernel/fd';
import { DeathReason, ERRNO, systemError } from '../../common/errors';
import { deathStep, DeathState, newDeathState } from '../../model/death-step';
import { REASON_CODES, reasonCode, timeoutPath } from '../../model/reason';
import { augmentTimeout, deathReadingOf, newDeathReading, peerGone, silentFrom } from '../../runtime/death';
import { Registration, scheduler } from '../../runtime/scheduler';
import { ownerOf } from '../../runtime/process-hooks';
import { TCP_STATE } from '../../kernel/tcpinfo';
import { ARMED, OWN, Table } from './table';

/** Errors this package built, so a death is counted and published once. */
export const ownErrors = new WeakSet<Error>();

/** The engines (their tables) the deathwatch's verdicts go to. */
const owners = new Set<{ readonly table: Table }>();

function socketAt(t: Table, fd: number): net.Socket | null {
  const h = t.handles[fd];
  if (!h) return null;
  return ownerOf(h as object) ?? t.sockets[fd] ?? null;
}


/** The epoll verdict for `fd`: destroy its socket if the kernel aborted the connection. */
function onVerdict(fd: number, low: number, _revents: number, deferred = false): void {
  for (const o of owners) {
    const t = o.table;
    if (t.handles[fd] === undefined || cookieLow(t.cookies[fd]) !== low) continue;
    const socket = socketAt(t, fd);
    // A socket still connecting is left to libuv's connect watcher (always
    // active): reading SO_ERROR here would turn a refused attempt into a success.
    if (!socket || socket.destroyed || socket.connecting) return;
    // A socket libuv reads gets the error itself this turn (read ETIMEDOUT, augmented in destroying()).
    const reading = !socket.isPaused() && (handleOf(socket) as { reading?: unknown } | null)?.reading === true;
    if (!deferred && reading) { setImmediate(onVerdict, fd, low, _revents, true); return; }
    const s = readOne(fd, BigInt(t.cookies[fd]));
    const path = timeoutPath(REASON_CODES[t.hints[fd]] ?? null, s && deathReadingOf(s, scratch));
    let err = soError(fd);
    if (err <= 0) {
      // An orderly hang-up (Node reads the EOF when it reads), unless a reader that does not destroy
      // the socket (an HTTP/2 session) took the kernel's error this turn: closed, and the readings say why.
      if (!deferred || !s || s.state !== TCP_STATE.CLOSE || path === null) return;
      err = ERRNO.ETIMEDOUT;
    }
    const silentMs = s ? silentFrom(s) : 0;
    const reason = path ?? 'kernel';
    const error = err !== ERRNO.ETIMEDOUT ? systemError(err, 'read')
      : peerGone(socket, reason, `the kernel closed the connection (${reason}): the peer was silent for ${silentMs} ms`, s, silentMs);
    ownErrors.add(error);
    socket.destroy(error);
    return;
  }
}

/** Why the kernel timed `fd` out: what the last armed reading showed, else its final reading (model/reason). */
function kernelReason(t: Table, fd: number, s: ReturnType<typeof readOne>): DeathReason {
  return timeoutPath(REASON_CODES[t.hints[fd]] ?? null, s && deathReadingOf(s, scratch)) ?? 'kernel';
}

const scratch = newDeathReading();

/** Sockets with data outstanding, polled until it is acknowledged. */
export class ArmedPoller {
  private readonly batch = new BatchReader();
  /** The cookies as numbers, to compare with the table's without allocating. */
  private cookieNums = new Float64Array(64);
  private count = 0;
  private readonly state: DeathState = newDeathState();
  private readonly reading = newDeathReading();
  /** Its task on the one shared scheduler (no timer of its own). */
  private task: Registration | null = null;
  private period = 1000;

  constructor(private readonly table: Table, private readonly intervalFor: (timeout: number) => number) {}

  get size(): number { return this.count; }

  arm(fd: number): void {
    const t = this.table;
    if ((t.flags[fd] & ARMED) !== 0) return;
    t.flags[fd] |= ARMED;
    t.unsentSince[fd] = -1;
    t.acked[fd] = -1;
    const b = this.batch;
    if (this.count === b.capacity) {
      b.reserve(this.count * 2, this.count);
      const k = new Float64Array(b.capacity); k.set(this.cookieNums); this.cookieNums = k;
    }
    b.fds[this.count] = fd;
    b.cookies[this.count] = BigInt(t.cookies[fd]);
    this.cookieNums[this.count] = t.cookies[fd];
    this.count++;
    const p = (t.flags[fd] & OWN) !== 0 ? t.polls[fd] : this.intervalFor(t.timeouts[fd]);
    if (!this.task || p < this.period) this.start(p);
  }

  private start(period: number): void {
    this.period = period;
    if (this.task) this.task.setInterval(period);
    else this.task = scheduler.addTask(period, { run: (now) => this.tick(now) });
  }

  stop(): void {
    this.task?.remove();
    this.task = null;
    for (let i = 0; i < this.count; i++) this.table.flags[this.batch.fds[i]] &= ~ARMED;
    this.count = 0;
  }

  /** Reads every armed socket once; keeps those still owed an ACK. */
  tick(now = performance.now()): void {
    const t = this.table;
    const n = this.count;
    if (n === 0) { this.stop(); return; }
    const b = this.batch;
    b.read(n);
    let kept = 0;
    const dead: Array<[number, DeathReason, string]> = [];
    const st = this.state;
    for (let i = 0; i < n; i++) {
      const fd = b.fds[i];
      const s = b.at(i);
      // An entry left by a socket whose fd number was reused since: drop it, leave the new one's flag alone.
      const current = t.handles[fd] !== undefined && this.cookieNums[i] === t.cookies[fd];
      let keep = false;
      if (s.errno === 0 && current && (t.flags[fd] & ARMED) !== 0) {
        st.unsentSince = t.unsentSince[fd];
        st.bytesAcked = t.acked[fd];
        const v = deathStep(st, deathReadingOf(s, this.reading), now, t.timeouts[fd]);
        t.unsentSince[fd] = st.unsentSince;
        t.acked[fd] = st.bytesAcked;
        t.hints[fd] = reasonCode(st.hint);
        if (v.kind === 'watching') keep = true;
        else if (v.kind === 'dead') dead.push([fd, v.reason, v.detail]);
      }
      if (keep) {
        b.fds[kept] = fd;
        b.cookies[kept] = b.cookies[i];
        this.cookieNums[kept] = this.cookieNums[i];
        kept++;
      } else if (current) {
        t.flags[fd] &= ~ARMED;
      }
    }
    this.count = kept;
    for (const [fd, reason, detail] of dead) this.silent(fd, reason, detail);
    if (kept === 0) this.stop();
  }

  /** The step declared `fd`'s peer gone. */
  private silent(fd: number, reason: DeathReason, detail: string): void {
    const t = this.table;
    const socket = socketAt(t, fd);
    if (!socket || socket.destroyed) return;
    const s = readOne(fd, BigInt(t.cookies[fd]));
    if (!s) return;
    const e = peerGone(socket, reason, detail, s);
    ownErrors.add(e);
    socket.destroy(e);
  }
}

/** Starts delivering kernel verdicts for `owner`'s table. */
export function addDetectorOwner(owner: { readonly table: Table }): void {
  openDeathwatch(onVerdict);
  owners.add(owner);
}

/** Stops delivering kernel verdicts for `owner`. */
export function removeDetectorOwner(owner: { readonly table: Table }): void {
  owners.delete(owner);
}

/**
 * Node got the kernel's ETIMEDOUT itself (read, write or connect) on the
 * socket at `fd` of `t`: add what the engine knows (`reason`, `silentMs`,
 * `unacknowledgedBytes`, `diagnosis`) in place, before any 'error' listener sees it.
 */
export function augmentKernelError(err: Error & { syscall?: string }, socket: net.Socket, t: Table, fd: number): void {
  const s = readOne(fd, BigInt(t.cookies[fd]));
  const connectPath = err.syscall === 'connect' || (s !== null && s.state === TCP_STATE.SYN_SENT);
  const reason = connectPath ? 'retransmit' : kernelReason(t, fd, s);
  const silentMs = connectPath || !s ? Math.round(performance.now() - t.since[fd]) : silentFrom(s);
  augmentTimeout(err, socket, reason, s, silentMs);
}
