/**
 * The engine's detector, for every socket in a {@link Table} (protect()'s and
 * failFast()'s alike):
 * - kernel verdicts (TCP_USER_TIMEOUT, keepalive, a reset) through the
 *   deathwatch (one epoll set, one uv_poll), whether or not Node is reading
 *   (a socket Node reads gets one turn to report it itself, then augmented),
 *   told apart from an earlier socket on the same fd number by the table's tag;
 * - written-to sockets "armed" and polled (one batch read per tick) until
 *   everything they sent is acknowledged, model/death-step judging each
 *   reading: the kernel would count TCP_USER_TIMEOUT from the write's first
 *   retransmission, not from the peer's silence.
 * Errors come from the one builder (runtime/death.ts); a reset is Node's ECONNRESET shape.
 * Every tcp_info read is a kernel/batch read checked against the slot's
 * SO_COOKIE, read the first time one is needed (Table.cookieOf), never the tag.
 */
import * as net from 'node:net';
import { BatchReader, readOne } from '../../kernel/batch';
import { openDeathwatch, soError } from '../../kernel/deathwatch';
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


/** The epoll verdict for `fd` (registered with `tag`): destroy its socket if the kernel aborted the connection. */
function onVerdict(fd: number, tag: number, _revents: number, deferred = false): void {
  for (const o of owners) {
    const t = o.table;
    if (t.handles[fd] === undefined || t.tags[fd] !== tag) continue;
    const socket = socketAt(t, fd);
    // A socket still connecting is left to libuv's connect watcher (always
    // active): reading SO_ERROR here would turn a refused attempt into a success.
    if (!socket || socket.destroyed || socket.connecting) return;
    // A socket libuv reads gets the error itself this turn (read ETIMEDOUT, augmented in destroying()).
    const reading = !socket.isPaused() && (handleOf(socket) as { reading?: unknown } | null)?.reading === true;
    if (!deferred && reading) { setImmediate(onVerdict, fd, tag, _revents, true); return; }
    const s = readOne(fd, t.cookieOf(fd));
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

/**
 * Sockets with data outstanding, polled until it is acknowledged. Each entry
 * carries the table tag it was armed with and the slot's SO_COOKIE (read at
 * the first tick that finds the entry listed, so arming costs no syscall); a
 * socket that closes is taken off the list at once ({@link disarm}).
 */
export class ArmedPoller {
  private readonly batch = new BatchReader();
  /** The tag of each entry, to tell a reused fd number apart without a syscall. */
  private tags = new Int32Array(64);
  /** Position + 1 of each fd in the list, 0 when not listed. */
  private at = new Int32Array(256);
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
    if ((t.flags[fd] & ARMED) !== 0 || t.handles[fd] === undefined) return;
    t.flags[fd] |= ARMED;
    t.unsentSince[fd] = -1;
    t.acked[fd] = -1;
    const b = this.batch;
    if (this.count === b.capacity) {
      b.reserve(this.count * 2, this.count);
      const g = new Int32Array(b.capacity); g.set(this.tags); this.tags = g;
    }
    if (fd >= this.at.length) {
      let size = this.at.length;
      while (size <= fd) size *= 2;
      const a = new Int32Array(size); a.set(this.at); this.at = a;
    }
    b.fds[this.count] = fd;
    // SO_COOKIE is read at the first tick that finds the entry still listed (most
    // short connections are acknowledged and closed before it: no syscall).
    b.cookies[this.count] = t.cookies[fd];
    this.tags[this.count] = t.tags[fd];
    this.count++;
    this.at[fd] = this.count;
    const p = (t.flags[fd] & OWN) !== 0 ? t.polls[fd] : this.intervalFor(t.timeouts[fd]);
    if (!this.task || p < this.period) this.start(p);
  }

  private start(period: number): void {
    this.period = period;
    if (this.task) this.task.setInterval(period);
    else this.task = scheduler.addTask(period, { run: (now) => this.tick(now) });
  }

  /** `fd` is closing: off the list now (the last entry takes its place). */
  disarm(fd: number): void {
    const i = fd < this.at.length ? this.at[fd] - 1 : -1;
    if (i < 0) return;
    this.at[fd] = 0;
    this.table.flags[fd] &= ~ARMED;
    const last = --this.count;
    if (i !== last) this.move(last, i);
  }

  /** Entry `from` to position `to` (its fd's position follows). */
  private move(from: number, to: number): void {
    const b = this.batch;
    const fd = b.fds[from];
    b.fds[to] = fd;
    b.cookies[to] = b.cookies[from];
    this.tags[to] = this.tags[from];
    this.at[fd] = to + 1;
  }

  stop(): void {
    this.task?.remove();
    this.task = null;
    for (let i = 0; i < this.count; i++) { const fd = this.batch.fds[i]; this.table.flags[fd] &= ~ARMED; this.at[fd] = 0; }
    this.count = 0;
  }

  /**
   * Gives each entry armed since the last tick its slot's SO_COOKIE (read
   * now, once per socket); drops an entry whose socket's cookie cannot be read
   * (not a readable socket any more) or that was left by a socket whose fd
   * number was reused since (leaving the new one's flag alone). The number of
   * entries left: each the one entry of a socket still in the table, armed.
   */
  private withCookies(): number {
    const t = this.table;
    const b = this.batch;
    let kept = 0;
    for (let i = 0; i < this.count; i++) {
      const fd = b.fds[i];
      if (this.at[fd] === i + 1) this.at[fd] = 0;
      if (t.handles[fd] === undefined || this.tags[i] !== t.tags[fd]) continue;
      if (b.cookies[i] === 0n) b.cookies[i] = t.cookieOf(fd);
      if (b.cookies[i] === 0n) { t.flags[fd] &= ~ARMED; continue; }
      this.move(i, kept++);
    }
    this.count = kept;
    return kept;
  }

  /** Reads every armed socket once; keeps those still owed an ACK. */
  tick(now = performance.now()): void {
    const t = this.table;
    const b = this.batch;
    const n = this.withCookies();
    if (n === 0) { this.stop(); return; }
    b.read(n);
    let kept = 0;
    const dead: Array<[number, DeathReason, string]> = [];
    const st = this.state;
    for (let i = 0; i < n; i++) {
      const fd = b.fds[i];
      const s = b.at(i);
      this.at[fd] = 0;
      let keep = false;
      if (s.errno === 0) {
        st.unsentSince = t.unsentSince[fd];
        st.bytesAcked = t.acked[fd];
        const v = deathStep(st, deathReadingOf(s, this.reading), now, t.timeouts[fd]);
        t.unsentSince[fd] = st.unsentSince;
        t.acked[fd] = st.bytesAcked;
        t.hints[fd] = reasonCode(st.hint);
        if (v.kind === 'watching') keep = true;
        else if (v.kind === 'dead') dead.push([fd, v.reason, v.detail]);
      }
      if (keep) this.move(i, kept++);
      else t.flags[fd] &= ~ARMED;
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
    const s = readOne(fd, t.cookieOf(fd));
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
  const s = readOne(fd, t.cookieOf(fd));
  const connectPath = err.syscall === 'connect' || (s !== null && s.state === TCP_STATE.SYN_SENT);
  const reason = connectPath ? 'retransmit' : kernelReason(t, fd, s);
  const silentMs = connectPath || !s ? Math.round(performance.now() - t.since[fd]) : silentFrom(s);
  augmentTimeout(err, socket, reason, s, silentMs);
}
