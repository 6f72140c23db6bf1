/**
 * Typed socket options. Times are milliseconds; the kernel's whole-second
 * options (keepalive, linger) accept only whole seconds and refuse anything
 * else with ERR_OUT_OF_RANGE rather than rounding.
 */
import { native } from './binding';
import { check, invalidArgType, invalidArgValue, systemError } from '../common/errors';
import { requireTcp, Target } from './fd';
import { socketFd } from './identity';
import { INT32_MAX, ownOption, validateBoolean, validateInteger, validateObject, validateWholeSeconds } from '../common/validate';

const C = native.constants;

/** Options understood by {@link setOptions} / returned by {@link getOptions}. */
export interface SocketOptions {
  /** SO_KEEPALIVE. */
  keepAlive?: boolean;
  /** TCP_KEEPIDLE: idle time before the first probe, ms (whole seconds, 1..32767 s). */
  keepAliveIdle?: number;
  /** TCP_KEEPINTVL: time between probes, ms (whole seconds, 1..32767 s). */
  keepAliveInterval?: number;
  /** TCP_KEEPCNT: unanswered probes before the kernel gives up (1..127). Ignored by the kernel when userTimeout is set. */
  keepAliveCount?: number;
  /** TCP_USER_TIMEOUT, ms (0 = off; 0..2147483647). */
  userTimeout?: number;
  /** TCP_NODELAY (disable Nagle). */
  noDelay?: boolean;
  /** SO_LINGER: false = off; a number of ms (whole seconds) = on, 0 = abortive close (RST). */
  linger?: false | number;
  /** TCP_NOTSENT_LOWAT, bytes (0 = use the sysctl). */
  notSentLowat?: number;
  /** TCP_SYNCNT: SYN retransmissions before connect() gives up (1..127). */
  synCount?: number;
  /** SO_SNDBUF, bytes. The kernel doubles what you set; getOptions reports the kernel's value. */
  sendBuffer?: number;
  /** SO_RCVBUF, bytes. The kernel doubles what you set; getOptions reports the kernel's value. */
  receiveBuffer?: number;
  /** TCP_CONGESTION: algorithm name, e.g. 'cubic'. */
  congestion?: string;
  /** TCP_RTO_MAX_MS (kernel 6.15+): ceiling of the retransmission timeout, ms (1000..120000). */
  rtoMax?: number;
}

const scratch = Buffer.alloc(16);

/**
 * protect() gives a new outbound connection its options a little after its
 * connect (policy/protect/settle.ts). Before this module reads or sets the
 * options of an fd, that is done now: what getOptions() shows is what
 * protect() promised, and an application's own setOptions() lands on top of
 * protect()'s, not under them.
 */
const BEFORE_KEY = Symbol.for('tcp-vitals.before-options.v1');
/** Every loaded copy's settle-now callback, shared: one copy's getOptions() sees another copy's protect(). */
const beforeOptionsHooks: Array<(fd: number) => void> = (() => {
  const g = globalThis as unknown as Record<symbol, Array<(fd: number) => void> | undefined>;
  let list = g[BEFORE_KEY];
  if (!Array.isArray(list)) {
    list = [];
    Object.defineProperty(g, BEFORE_KEY, { value: list, enumerable: false });
  }
  return list;
})();

/** Adds a settle-now callback (once per function; protect() adds one per loaded copy). */
export function onBeforeOptions(fn: (fd: number) => void): void {
  if (!beforeOptionsHooks.includes(fn)) beforeOptionsHooks.push(fn);
}

function beforeOptions(fd: number): void {
  for (const fn of beforeOptionsHooks) {
    try { fn(fd); } catch { /* a settle that fails counts itself (protect's stats); the read goes on */ }
  }
}

function wholeSeconds(name: string, ms: unknown, minS: number, maxS: number): number {
  return validateWholeSeconds(`options.${name}`, ms, minS * 1000, maxS * 1000) / 1000;
}

function intIn(name: string, v: unknown, min: number, max: number): number {
  return validateInteger(`options.${name}`, v, min, max);
}

function bool(name: string, v: unknown): number {
  return validateBoolean(`options.${name}`, v) ? 1 : 0;
}

type Op = { level: number; name: number; int?: number; bytes?: Uint8Array; label: string };

/** Validates everything first and returns the setsockopt calls, so nothing is half-applied on bad input. */
function plan(options: SocketOptions): Op[] {
  validateObject('options', options);
  const ops: Op[] = [];
  const T = C.IPPROTO_TCP, S = C.SOL_SOCKET;
  for (const key of Object.keys(options)) {
    const v = (options as Record<string, unknown>)[key];
    if (v === undefined) continue;
    switch (key) {
      case 'keepAliveIdle': ops.push({ level: T, name: C.TCP_KEEPIDLE, int: wholeSeconds(key, v, 1, 32767), label: key }); break;
      case 'keepAliveInterval': ops.push({ level: T, name: C.TCP_KEEPINTVL, int: wholeSeconds(key, v, 1, 32767), label: key }); break;
      case 'keepAliveCount': ops.push({ level: T, name: C.TCP_KEEPCNT, int: intIn(key, v, 1, 127), label: key }); break;
      case 'userTimeout': ops.push({ level: T, name: C.TCP_USER_TIMEOUT, int: intIn(key, v, 0, INT32_MAX), label: key }); break;
      case 'noDelay': ops.push({ level: T, name: C.TCP_NODELAY, int: bool(key, v), label: key }); break;
      case 'notSentLowat': ops.push({ level: T, name: C.TCP_NOTSENT_LOWAT, int: intIn(key, v, 0, INT32_MAX), label: key }); break;
      case 'synCount': ops.push({ level: T, name: C.TCP_SYNCNT, int: intIn(key, v, 1, 127), label: key }); break;
      case 'sendBuffer': ops.push({ level: S, name: C.SO_SNDBUF, int: intIn(key, v, 1, INT32_MAX), label: key }); break;
      case 'receiveBuffer': ops.push({ level: S, name: C.SO_RCVBUF, int: intIn(key, v, 1, INT32_MAX), label: key }); break;
      case 'rtoMax': ops.push({ level: T, name: C.TCP_RTO_MAX_MS, int: intIn(key, v, 1000, 120000), label: key }); break;
      case 'congestion': {
        if (typeof v !== 'string') throw invalidArgType(`options.${key}`, 'of type string', v);
        if (v.length === 0 || v.length > 15 || !/^[a-z0-9_]+$/i.test(v)) {
          throw invalidArgValue(`options.${key}`, v, 'must be a congestion control name of 1 to 15 characters');
        }
        ops.push({ level: T, name: C.TCP_CONGESTION, bytes: Buffer.from(v, 'latin1'), label: key });
        break;
      }
      case 'linger': {
        const buf = Buffer.alloc(8);
        if (v === false) buf.writeInt32LE(0, 0);
        else {
          buf.writeInt32LE(1, 0);
          buf.writeInt32LE(wholeSeconds(key, v, 0, INT32_MAX / 1000), 4);
        }
        ops.push({ level: S, name: C.SO_LINGER, bytes: buf, label: key });
        break;
      }
      case 'keepAlive': break; // ordered below
      default:
        throw invalidArgValue('options', key, `has an unknown option '${key}'`);
    }
  }
  // SO_KEEPALIVE last when enabling (timers are already right when it arms), first when disabling.
  const keepAlive = ownOption(options, 'keepAlive');
  if (keepAlive !== undefined) {
    const on = bool('keepAlive', keepAlive);
    const op = { level: S, name: C.SO_KEEPALIVE, int: on, label: 'keepAlive' };
    if (on) ops.push(op); else ops.unshift(op);
  }
  return ops;
}

// Options the kernel can refuse for reasons validation cannot see (a
// congestion module that is not loaded or not allowed, TCP_RTO_MAX_MS on a
// kernel before 6.15). They are applied first and restored if anything after
// them fails, so a refusal leaves the socket as it was.
const FALLIBLE = new Set(['rtoMax', 'congestion']);
function apply(fd: number, op: Op): number {
  return op.bytes ? native.setsockopt(fd, op.level, op.name, op.bytes) : native.setsockoptInt(fd, op.level, op.name, op.int!);
}

/**
 * The op that would put back the option's current value, or the errno
 * (negative) when the kernel cannot read it: an option the kernel does not
 * know (ENOPROTOOPT) cannot be set either.
 */
function snapshot(fd: number, op: Op): Op | number {
  const buf = Buffer.alloc(op.bytes ? 16 : 4);
  const len = native.getsockopt(fd, op.level, op.name, buf);
  if (len < 0) return len;
  if (op.bytes) {
    const nul = buf.indexOf(0);
    return { ...op, bytes: buf.subarray(0, nul >= 0 && nul < len ? nul : len) };
  }
  return { ...op, int: buf.readInt32LE(0) };
}

/**
 * Sets typed options on a TCP socket (or fd), all or nothing. All values are
 * validated before any is applied; the options the kernel may refuse
 * (congestion, rtoMax) are read back first and applied first, and restored if
 * a later one fails. A kernel refusal throws a system error naming the option
 * (e.g. `setsockopt ENOENT (congestion)`, `setsockopt ENOPROTOOPT (rtoMax)`
 * before 6.15) and leaves every option as it was. A socket that is not TCP
 * gives `setsockopt ENOTSUP (not a TCP socket)` (errno 95: Linux's
 * EOPNOTSUPP, which Node names ENOTSUP).
 */
export function setOptions(target: Target, options: SocketOptions): void {
  const ops = plan(options);
  const fallible = ops.filter((op) => FALLIBLE.has(op.label));
  const ordered = [...fallible, ...ops.filter((op) => !FALLIBLE.has(op.label))];
  const fd = socketFd(target);
  // SOL_SOCKET options would succeed on a UDP or Unix socket and the TCP ones
  // fail after them: refuse a non-TCP socket before touching anything.
  requireTcp(fd, 'setsockopt');
  beforeOptions(fd);
  // Every undo is known before anything changes: an option this kernel cannot
  // read (TCP_RTO_MAX_MS before 6.15) is refused here, with nothing applied.
  const undo: Op[] = [];
  for (const op of fallible) {
    const before = snapshot(fd, op);
    if (typeof before === 'number') throw systemError(before, 'setsockopt', op.label);
    undo.push(before);
  }
  for (let i = 0; i < ordered.length; i++) {
    const r = apply(fd, ordered[i]);
    if (r < 0) {
      for (let j = Math.min(i, undo.length) - 1; j >= 0; j--) apply(fd, undo[j]);
      throw systemError(r, 'setsockopt', ordered[i].label);
    }
  }
}


function readInt(fd: number, level: number, name: number): number | undefined {
  scratch.fill(0);
  const r = native.getsockopt(fd, level, name, scratch.subarray(0, 4));
  if (r === -C.ENOPROTOOPT) return undefined; // option unknown to this kernel
  check(r, 'getsockopt');
  return scratch.readInt32LE(0);
}

/**
 * Reads every option of {@link SocketOptions} from the kernel. An option the
 * running kernel does not know (e.g. rtoMax before 6.15) is absent. A socket
 * that is not TCP gives `getsockopt ENOTSUP (not a TCP socket)`.
 */
export function getOptions(target: Target): Required<Omit<SocketOptions, 'rtoMax'>> & Pick<SocketOptions, 'rtoMax'> {
  const fd = socketFd(target);
  requireTcp(fd, 'getsockopt');
  beforeOptions(fd);
  const T = C.IPPROTO_TCP, S = C.SOL_SOCKET;
  const int = (level: number, name: number) => readInt(fd, level, name) ?? 0;
  scratch.fill(0);
  check(native.getsockopt(fd, S, C.SO_LINGER, scratch.subarray(0, 8)), 'getsockopt', 'SO_LINGER');
  const linger: number | false = scratch.readInt32LE(0) ? scratch.readInt32LE(4) * 1000 : false;
  scratch.fill(0);
  const clen = native.getsockopt(fd, T, C.TCP_CONGESTION, scratch);
  if (clen < 0) throw systemError(clen, 'getsockopt', 'TCP_CONGESTION');
  const nul = scratch.indexOf(0);
  const congestion = scratch.toString('latin1', 0, nul >= 0 && nul < clen ? nul : clen);
  const rtoMax = readInt(fd, T, C.TCP_RTO_MAX_MS);
  const result = {
    keepAlive: int(S, C.SO_KEEPALIVE) !== 0,
    keepAliveIdle: int(T, C.TCP_KEEPIDLE) * 1000,
    keepAliveInterval: int(T, C.TCP_KEEPINTVL) * 1000,
    keepAliveCount: int(T, C.TCP_KEEPCNT),
    userTimeout: int(T, C.TCP_USER_TIMEOUT),
    noDelay: int(T, C.TCP_NODELAY) !== 0,
    linger,
    notSentLowat: int(T, C.TCP_NOTSENT_LOWAT) >>> 0,
    synCount: int(T, C.TCP_SYNCNT),
    sendBuffer: int(S, C.SO_SNDBUF),
    receiveBuffer: int(S, C.SO_RCVBUF),
    congestion,
    ...(rtoMax === undefined ? {} : { rtoMax }),
  };
  return result;
}
