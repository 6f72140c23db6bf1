/**
 * struct tcp_info, decoded by byte offset and by the length the running
 * kernel returned (never by the build host's headers). The layout (kernel
 * 6.18, 280 bytes) is the table in tcpinfo-layout.ts; the decoders are
 * generated from it at build time (tcpinfo-decode.generated.ts).
 */
import { native } from './binding';
import { check, codedError, invalidArgType, outOfRange } from '../common/errors';
import { validateInteger } from '../common/validate';
import { Target } from './fd';
import { socketFd } from './identity';
import { LITERAL_DECODERS, LiteralDecoder } from './tcpinfo-decode.generated';
import {
  TCP_INFO_FIELDS, TCP_INFO_KIND_SIZE, TCP_STATES, TcpInfoFieldKind,
} from './tcpinfo-layout';

export { TCP_INFO_FIELDS, TCP_INFO_KNOWN_LENGTH, TCP_INFO_OFFSETS, TCP_STATES } from './tcpinfo-layout';
export type { TcpInfoField, TcpInfoFieldKind } from './tcpinfo-layout';

/** A TCP state name, as in {@link TCP_STATES}. */
export type TcpState = (typeof TCP_STATES)[number];
/** State numbers by name (TCP_STATE.CLOSE === 7), for hot paths that compare raw tcpi_state bytes. */
export const TCP_STATE = Object.freeze(
  Object.fromEntries(TCP_STATES.map((name, n) => [name, n])) as Record<TcpState, number>,
);

/** Congestion-avoidance states (tcpi_ca_state). */
export const CA_STATES = ['Open', 'Disorder', 'CWR', 'Recovery', 'Loss'] as const;

/** tcpi_options bits. */
export const TCPI_OPT = {
  TIMESTAMPS: 1, SACK: 2, WSCALE: 4, ECN: 8, ECN_SEEN: 16, SYN_DATA: 32, USEC_TS: 64, TFO_CHILD: 128,
} as const;

/**
 * Decoded tcp_info. Names are the kernel's without `tcpi_`, in camelCase.
 * Fields after `totalRetrans` are optional: absent when the running kernel's
 * struct is too short to hold them (never a silent zero). u64 fields are JS
 * numbers (exact below 2^53); pacing rates of ~0 ("unlimited") are Infinity.
 */
export interface TcpInfo {
  /** Bytes the kernel returned (104 on 2.6 ... 280 on 6.18). */
  length: number;
  /** TCP state name ('ESTABLISHED', 'LISTEN', 'CLOSE', ...). */
  state: TcpState;
  /** Raw tcpi_state number. */
  stateNumber: number;
  /** Congestion-avoidance state: 0 Open, 1 Disorder, 2 CWR, 3 Recovery, 4 Loss. */
  caState: number;
  /** Consecutive RTO expiries without progress in the current episode (count). */
  retransmits: number;
  /** Unanswered zero-window or keepalive probes (count). */
  probes: number;
  /** Exponential backoff shift of the RTO / persist timer. */
  backoff: number;
  /** Negotiated options bit set (see TCPI_OPT). */
  options: number;
  /** Send window scale shift (valid when options & WSCALE). */
  sndWscale: number;
  /** Receive window scale shift (valid when options & WSCALE). */
  rcvWscale: number;
  /** Last delivery-rate sample was application-limited (4.9+; false before). */
  deliveryRateAppLimited: boolean;
  /** TFO client failure: 0 unspec, 1 no cookie, 2 data not acked, 3 SYN retransmitted (5.5+). */
  fastopenClientFail: number;
  /** Current retransmission timeout including backoff, µs. */
  rto: number;
  /** Delayed-ACK timeout, µs. */
  ato: number;
  /** Send MSS, bytes. */
  sndMss: number;
  /** Receive MSS estimate, bytes. */
  rcvMss: number;
  /** Segments in flight (packets_out); for LISTEN: accept-queue length. */
  unacked: number;
  /** SACKed segments; for LISTEN: the backlog limit. */
  sacked: number;
  /** Segments presumed lost. */
  lost: number;
  /** Retransmitted segments currently in flight. */
  retrans: number;
  /** Always 0 since kernel 4.15. */
  fackets: number;
  /** Time since data was last sent, ms. */
  lastDataSent: number;
  /** Never filled by Linux (0). */
  lastAckSent: number;
  /** Time since data was last received, ms. */
  lastDataRecv: number;
  /** Time since any ACK was last received, ms: "when was the peer last heard from". */
  lastAckRecv: number;
  /** Path MTU, bytes. */
  pmtu: number;
  /** Receive slow-start threshold, bytes. */
  rcvSsthresh: number;
  /** Smoothed RTT, µs. */
  rtt: number;
  /** RTT variance, µs. */
  rttvar: number;
  /** Send slow-start threshold, segments (0x7fffffff = infinite). */
  sndSsthresh: number;
  /** Congestion window, segments. */
  sndCwnd: number;
  /** Advertised MSS, bytes. */
  advmss: number;
  /** Reordering metric, segments. */
  reordering: number;
  /** Receiver-side RTT estimate, µs. */
  rcvRtt: number;
  /** Receive space (autotuning), bytes. */
  rcvSpace: number;
  /** Lifetime retransmitted segments, including TLPs. */
  totalRetrans: number;
  /** Pacing rate, bytes/s (Infinity = unlimited). 3.15+. */
  pacingRate?: number;
  /** Max pacing rate, bytes/s (Infinity = unlimited). 3.15+. */
  maxPacingRate?: number;
  /** Bytes acknowledged by the peer (counts SYN/FIN sequence numbers too). 4.1+. */
  bytesAcked?: number;
  /** Bytes received. 4.1+. */
  bytesReceived?: number;
  /** Segments sent, incl. pure ACKs and retransmits. 4.2+. */
  segsOut?: number;
  /** Segments received. 4.2+. */
  segsIn?: number;
  /** Bytes queued but never sent (= SIOCOUTQNSD). 4.6+. */
  notsentBytes?: number;
  /** Windowed minimum RTT, µs. 4.6+. */
  minRtt?: number;
  /** Segments received with payload. 4.6+. */
  dataSegsIn?: number;
  /** Segments sent with payload. 4.6+. */
  dataSegsOut?: number;
  /** Delivery rate, bytes/s. 4.9+. */
  deliveryRate?: number;
  /** Time with data in flight, µs. 4.10+. */
  busyTime?: number;
  /** Time limited by the peer's receive window, µs. 4.10+. */
  rwndLimited?: number;
  /** Time limited by the send buffer, µs. 4.10+. */
  sndbufLimited?: number;
  /** Segments delivered. 4.18+. */
  delivered?: number;
  /** Segments delivered with CE marks. 4.18+. */
  deliveredCe?: number;
  /** Bytes sent, incl. retransmits. 4.19+. */
  bytesSent?: number;
  /** Bytes retransmitted. 4.19+. */
  bytesRetrans?: number;
  /** DSACK blocks received. 4.19+. */
  dsackDups?: number;
  /** Reordering events seen. 4.19+. */
  reordSeen?: number;
  /** Out-of-order packets received. 5.4+. */
  rcvOoopack?: number;
  /** Peer's advertised window, bytes. 5.4+. */
  sndWnd?: number;
  /** Our advertised window, bytes. 6.2+. */
  rcvWnd?: number;
  /** PLB and timeout-triggered rehashes. 6.2+. */
  rehash?: number;
  /** Total RTO timeouts, incl. SYN. 6.7+. */
  totalRto?: number;
  /** RTO recovery episodes. 6.7+. */
  totalRtoRecoveries?: number;
  /** Time spent in RTO recovery, incl. an unfinished episode, ms. 6.7+. */
  totalRtoTime?: number;
  /** CE-marked segments received. 6.18+. */
  receivedCe?: number;
  /** AccECN: bytes delivered with ECT(1). 6.18+. */
  deliveredE1Bytes?: number;
  /** AccECN: bytes delivered with ECT(0). 6.18+. */
  deliveredE0Bytes?: number;
  /** AccECN: bytes delivered with CE. 6.18+. */
  deliveredCeBytes?: number;
  /** AccECN: bytes received with ECT(1). 6.18+. */
  receivedE1Bytes?: number;
  /** AccECN: bytes received with ECT(0). 6.18+. */
  receivedE0Bytes?: number;
  /** AccECN: bytes received with CE. 6.18+. */
  receivedCeBytes?: number;
  /**
   * AccECN failure bits, as laid out by kernel 6.18 (bytes 276-277). Caveat:
   * later kernels re-define bytes 276-279 as one bit field at the same length.
   */
  accecnFailMode?: number;
  /** AccECN option seen (0 not, 1 empty, 2 counter, 3 fail), 6.18 layout; same caveat. */
  accecnOptSeen?: number;
}

/** Buffer size passed to the kernel: room for future growth. */
export const TCP_INFO_BUFFER_SIZE = 512;

/** Reads a little-endian u64 as a number without allocating a BigInt. */
export function readU64(buf: Uint8Array, off: number): number {
  const dv = buf as Buffer;
  return dv.readUInt32LE(off) + dv.readUInt32LE(off + 4) * 0x1_0000_0000;
}

function readField(view: DataView, at: number, kind: TcpInfoFieldKind): number {
  switch (kind) {
    case 'u8': return view.getUint8(at);
    case 'u16': return view.getUint16(at, true);
    case 'u32': return view.getUint32(at, true);
    case 'u64': return view.getUint32(at, true) + view.getUint32(at + 4, true) * 0x1_0000_0000;
    case 'rate': {
      const lo = view.getUint32(at, true), hi = view.getUint32(at + 4, true);
      return lo === 0xffffffff && hi === 0xffffffff ? Infinity : lo + hi * 0x1_0000_0000;
    }
  }
}

/**
 * For each length 0..TCP_INFO_BUFFER_SIZE: how many fields (sorted by offset,
 * non-overlapping) end within it. One pass (a loop per length made V8 optimize
 * it at load: the compiler's memory alone was +4 MB of RSS in every process).
 */
const FIELDS_WITHIN = new Uint8Array(TCP_INFO_BUFFER_SIZE + 1);
for (let n = 0, len = 0; len <= TCP_INFO_BUFFER_SIZE; len++) {
  while (n < TCP_INFO_FIELDS.length && TCP_INFO_FIELDS[n][1] + TCP_INFO_KIND_SIZE[TCP_INFO_FIELDS[n][2]] <= len) n++;
  FIELDS_WITHIN[len] = n;
}

/**
 * Decoding speed: a kernel always returns the same length, and every length a
 * kernel release returns has a generated literal decoder (one hidden class
 * per length; a loop of computed-key stores was about 10x slower). A length
 * between two releases (a truncated buffer) starts from the longest shorter
 * literal and adds the remaining fields in table order.
 */
const EXACT: Array<LiteralDecoder | undefined> = [];
/** For each field count: the field count of the literal decoder it starts from. */
const BASE = new Uint8Array(TCP_INFO_FIELDS.length + 1);
for (const [count, decode] of LITERAL_DECODERS) EXACT[count] = decode;
for (let n = 0, base = 0; n <= TCP_INFO_FIELDS.length; n++) BASE[n] = EXACT[n] ? (base = n) : base;

/**
 * Decodes `length` bytes of tcp_info starting at `offset` in `buf`. Fields that
 * end beyond `length` are left out (absent, not zero). Throws
 * ERR_INVALID_ARG_TYPE when `buf` is not a Buffer/Uint8Array or a number
 * argument is not a number, ERR_OUT_OF_RANGE when `length` is under 8 or
 * `offset + length` is beyond the buffer.
 */
export function decodeTcpInfo(buf: Buffer, length: number, offset = 0): TcpInfo {
  if (!(buf instanceof Uint8Array)) throw invalidArgType('buffer', 'an instance of Buffer or Uint8Array', buf);
  validateInteger('offset', offset, 0, buf.byteLength);
  if (typeof length !== 'number') throw invalidArgType('length', 'of type number', length);
  if (!Number.isInteger(length) || length < 8 || length > buf.byteLength - offset) {
    throw outOfRange('length', `an integer >= 8 and <= ${buf.byteLength - offset} (the bytes after offset)`, length);
  }
  return decodeChecked(buf, length, offset);
}

/** {@link decodeTcpInfo} on arguments known to be valid (the kernel's own length, our own buffer). */
function decodeChecked(buf: Buffer, length: number, offset: number): TcpInfo {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fieldCount = length <= TCP_INFO_BUFFER_SIZE ? FIELDS_WITHIN[length] : TCP_INFO_FIELDS.length;
  const exact = EXACT[fieldCount];
  if (exact) return exact(view, offset, length);
  const base = BASE[fieldCount];
  const info = EXACT[base]!(view, offset, length) as unknown as Record<string, number>;
  for (let i = base; i < fieldCount; i++) {
    const [name, off, kind] = TCP_INFO_FIELDS[i];
    info[name] = readField(view, offset + off, kind);
  }
  return info as unknown as TcpInfo;
}

const scratch = Buffer.alloc(TCP_INFO_BUFFER_SIZE);

/**
 * Raw TCP_INFO of an fd into the module's scratch buffer; returns the length.
 * A length shorter than any Linux returns (104 bytes, Linux 2.6; qemu-user
 * 7.2 returns 4) throws ERR_TCP_VITALS_SHORT_TCP_INFO (`syscall`, `length`).
 */
export function readTcpInfoRaw(fd: number): { buf: Buffer; length: number } {
  const length = check(native.tcpInfo(fd, scratch), 'getsockopt', 'TCP_INFO');
  const min = native.constants.TCP_INFO_MIN_LENGTH;
  if (length < min) {
    const err = codedError('ERR_TCP_VITALS_SHORT_TCP_INFO', `getsockopt TCP_INFO returned ${length} bytes; Linux returns at least ${min} `
      + '(an emulator such as qemu-user?): tcp_info cannot be decoded') as Error & { code: string; syscall: string; length: number };
    err.syscall = 'getsockopt';
    err.length = length;
    throw err;
  }
  return { buf: scratch, length };
}

/**
 * tcp_info of a socket, server or fd, decoded by the length the running
 * kernel returned. Throws a system error (e.g. `getsockopt ENOTSUP (TCP_INFO)`
 * for a UDP or Unix socket — errno 95, Linux's EOPNOTSUPP, which Node names
 * ENOTSUP —, `getsockopt ENOTSOCK (TCP_INFO)` for a file, `getsockopt EBADF
 * (TCP_INFO)` for a closed fd), and ERR_TCP_VITALS_SHORT_TCP_INFO when the
 * kernel returns fewer bytes than any Linux does (an emulator).
 */
export function tcpInfo(target: Target): TcpInfo {
  const fd = socketFd(target);
  const { buf, length } = readTcpInfoRaw(fd);
  return decodeChecked(buf, length, 0);
}
