/**
 * struct tcp_info, decoded by byte offset and by the length the running
 * kernel returned (never by the build host's headers). Layout: kernel 6.18
 * (280 bytes); see ../shared/linux-tcp.md §1.2.
 */
import { native } from './binding';
import { check } from '../common/errors';
import { fdOf, Target } from './fd';

/** TCP states as the kernel numbers them (include/net/tcp_states.h). */
export const TCP_STATES = [
  'UNKNOWN', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT',
  'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV', 'BOUND_INACTIVE',
] as const;
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

type Kind = 'u8' | 'u16' | 'u32' | 'u64' | 'rate';
/** [name, byte offset, kind]; bitfields in bytes 6-7 are decoded separately. */
const FIELDS: ReadonlyArray<readonly [keyof TcpInfo, number, Kind]> = [
  ['caState', 1, 'u8'], ['retransmits', 2, 'u8'], ['probes', 3, 'u8'], ['backoff', 4, 'u8'], ['options', 5, 'u8'],
  ['rto', 8, 'u32'], ['ato', 12, 'u32'], ['sndMss', 16, 'u32'], ['rcvMss', 20, 'u32'],
  ['unacked', 24, 'u32'], ['sacked', 28, 'u32'], ['lost', 32, 'u32'], ['retrans', 36, 'u32'], ['fackets', 40, 'u32'],
  ['lastDataSent', 44, 'u32'], ['lastAckSent', 48, 'u32'], ['lastDataRecv', 52, 'u32'], ['lastAckRecv', 56, 'u32'],
  ['pmtu', 60, 'u32'], ['rcvSsthresh', 64, 'u32'], ['rtt', 68, 'u32'], ['rttvar', 72, 'u32'],
  ['sndSsthresh', 76, 'u32'], ['sndCwnd', 80, 'u32'], ['advmss', 84, 'u32'], ['reordering', 88, 'u32'],
  ['rcvRtt', 92, 'u32'], ['rcvSpace', 96, 'u32'], ['totalRetrans', 100, 'u32'],
  ['pacingRate', 104, 'rate'], ['maxPacingRate', 112, 'rate'],
  ['bytesAcked', 120, 'u64'], ['bytesReceived', 128, 'u64'],
  ['segsOut', 136, 'u32'], ['segsIn', 140, 'u32'],
  ['notsentBytes', 144, 'u32'], ['minRtt', 148, 'u32'], ['dataSegsIn', 152, 'u32'], ['dataSegsOut', 156, 'u32'],
  ['deliveryRate', 160, 'u64'],
  ['busyTime', 168, 'u64'], ['rwndLimited', 176, 'u64'], ['sndbufLimited', 184, 'u64'],
  ['delivered', 192, 'u32'], ['deliveredCe', 196, 'u32'],
  ['bytesSent', 200, 'u64'], ['bytesRetrans', 208, 'u64'], ['dsackDups', 216, 'u32'], ['reordSeen', 220, 'u32'],
  ['rcvOoopack', 224, 'u32'], ['sndWnd', 228, 'u32'],
  ['rcvWnd', 232, 'u32'], ['rehash', 236, 'u32'],
  ['totalRto', 240, 'u16'], ['totalRtoRecoveries', 242, 'u16'], ['totalRtoTime', 244, 'u32'],
  ['receivedCe', 248, 'u32'], ['deliveredE1Bytes', 252, 'u32'], ['deliveredE0Bytes', 256, 'u32'],
  ['deliveredCeBytes', 260, 'u32'], ['receivedE1Bytes', 264, 'u32'], ['receivedE0Bytes', 268, 'u32'],
  ['receivedCeBytes', 272, 'u32'], ['accecnFailMode', 276, 'u16'], ['accecnOptSeen', 278, 'u16'],
];

const SIZE: Record<Kind, number> = { u8: 1, u16: 2, u32: 4, u64: 8, rate: 8 };

/** Byte offsets of every field, for hot paths that read single fields from a raw record. */
export const TCP_INFO_OFFSETS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries([['state', 0], ...FIELDS.map(([n, o]) => [n, o])]),
);

/** The largest tcp_info this decoder knows (kernel 6.18). */
export const TCP_INFO_KNOWN_LENGTH = 280;
/** Buffer size passed to the kernel: room for future growth. */
export const TCP_INFO_BUFFER_SIZE = 512;

/** Reads a little-endian u64 as a number without allocating a BigInt. */
export function readU64(buf: Uint8Array, off: number): number {
  const dv = buf as Buffer;
  return dv.readUInt32LE(off) + dv.readUInt32LE(off + 4) * 0x1_0000_0000;
}

/** A pacing rate from its two u32 halves; ~0 means "unlimited". */
function rate(lo: number, hi: number): number {
  return lo === 0xffffffff && hi === 0xffffffff ? Infinity : lo + hi * 0x1_0000_0000;
}

type LiteralDecoder = (view: DataView, at: number, length: number) => TcpInfo;

/**
 * Decoding speed: a kernel always returns the same length, so for each number
 * of fields that fit, one function is generated (once, on first use) that
 * builds the whole object as a single literal. Every result then has one
 * hidden class and no property is added later; a loop of computed-key stores
 * was about 10x slower (11 µs per decode). The generated code reads only the
 * FIELDS table, so the table stays the single source of the layout.
 */
const literalDecoders: Array<LiteralDecoder | undefined> = [];

function literalDecoder(fieldCount: number): LiteralDecoder {
  const cached = literalDecoders[fieldCount];
  if (cached) return cached;
  const read: Record<Kind, (off: number) => string> = {
    u8: (off) => `view.getUint8(at + ${off})`,
    u16: (off) => `view.getUint16(at + ${off}, true)`,
    u32: (off) => `view.getUint32(at + ${off}, true)`,
    u64: (off) => `view.getUint32(at + ${off}, true) + view.getUint32(at + ${off + 4}, true) * 4294967296`,
    rate: (off) => `rate(view.getUint32(at + ${off}, true), view.getUint32(at + ${off + 4}, true))`,
  };
  const fields = FIELDS.slice(0, fieldCount).map(([name, off, kind]) => `    ${name}: ${read[kind](off)},`).join('\n');
  const source = `return function decodeTcpInfo${fieldCount}(view, at, length) {
  const stateNumber = view.getUint8(at), b6 = view.getUint8(at + 6), b7 = view.getUint8(at + 7);
  return {
    length,
    state: states[stateNumber] ?? 'UNKNOWN',
    stateNumber,
    sndWscale: b6 & 0x0f,
    rcvWscale: b6 >> 4,
    deliveryRateAppLimited: (b7 & 1) === 1,
    fastopenClientFail: (b7 >> 1) & 3,
${fields}
  };
};`;
  const make = new Function('rate', 'states', source) as (r: typeof rate, st: typeof TCP_STATES) => LiteralDecoder;
  return (literalDecoders[fieldCount] = make(rate, TCP_STATES));
}

/** How many FIELDS (sorted by offset, non-overlapping) end within `length` bytes. */
function fieldsWithin(length: number): number {
  let n = 0;
  while (n < FIELDS.length && FIELDS[n][1] + SIZE[FIELDS[n][2]] <= length) n++;
  return n;
}
const FIELDS_WITHIN = Uint8Array.from({ length: TCP_INFO_BUFFER_SIZE + 1 }, (_, len) => fieldsWithin(len));

/**
 * Decodes `length` bytes of tcp_info starting at `offset` in `buf`. Fields that
 * end beyond `length` are left out (absent, not zero).
 */
export function decodeTcpInfo(buf: Buffer, length: number, offset = 0): TcpInfo {
  if (length < 8) throw new RangeError(`tcp_info too short to decode: ${length} bytes`);
  const fieldCount = length <= TCP_INFO_BUFFER_SIZE ? FIELDS_WITHIN[length] : FIELDS.length;
  return literalDecoder(fieldCount)(new DataView(buf.buffer, buf.byteOffset, buf.byteLength), offset, length);
}

const scratch = Buffer.alloc(TCP_INFO_BUFFER_SIZE);

/** Raw TCP_INFO of an fd into the module's scratch buffer; returns the length. */
export function readTcpInfoRaw(fd: number): { buf: Buffer; length: number } {
  const length = check(native.tcpInfo(fd, scratch), 'getsockopt', 'TCP_INFO');
  return { buf: scratch, length };
}

/**
 * tcp_info of a socket, server or fd, decoded by the length the running
 * kernel returned. Throws a system error (e.g. `getsockopt ENOTSUP (TCP_INFO)`
 * for a UDP or Unix socket — errno 95, Linux's EOPNOTSUPP, which Node names
 * ENOTSUP —, `getsockopt ENOTSOCK (TCP_INFO)` for a file, `getsockopt EBADF
 * (TCP_INFO)` for a closed fd).
 */
export function tcpInfo(target: Target): TcpInfo {
  const fd = fdOf(target);
  const { buf, length } = readTcpInfoRaw(fd);
  return decodeTcpInfo(buf, length);
}
