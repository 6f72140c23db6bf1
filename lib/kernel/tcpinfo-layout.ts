/**
 * The layout of struct tcp_info: the one table of field names, byte offsets,
 * kinds and the kernel release that added each field (kernel 6.18, 280 bytes;
 * offsets verified with offsetof on the 6.18 BTF layout). Everything that reads
 * tcp_info by offset takes it from here: the decoder generated from this table
 * at build time (scripts/gen-tcpinfo.js writes tcpinfo-decode.generated.ts),
 * {@link TCP_INFO_OFFSETS} and the hot paths that read single fields.
 *
 * Plain data with no imports: the build script loads it without the addon.
 */

/** How a field is stored: little-endian unsigned ints; `rate` is a u64 where ~0 means unlimited. */
export type TcpInfoFieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'rate';

/** Byte size of each kind. */
export const TCP_INFO_KIND_SIZE = { u8: 1, u16: 2, u32: 4, u64: 8, rate: 8 } as const;

/**
 * [name, byte offset, kind, first kernel release], sorted by offset, never
 * overlapping. Bytes 0 (state) and 6-7 (window scales and flag bits) are
 * decoded separately.
 */
export const TCP_INFO_FIELDS = [
  ['caState', 1, 'u8', '2.6'],
  ['retransmits', 2, 'u8', '2.6'],
  ['probes', 3, 'u8', '2.6'],
  ['backoff', 4, 'u8', '2.6'],
  ['options', 5, 'u8', '2.6'],
  ['rto', 8, 'u32', '2.6'],
  ['ato', 12, 'u32', '2.6'],
  ['sndMss', 16, 'u32', '2.6'],
  ['rcvMss', 20, 'u32', '2.6'],
  ['unacked', 24, 'u32', '2.6'],
  ['sacked', 28, 'u32', '2.6'],
  ['lost', 32, 'u32', '2.6'],
  ['retrans', 36, 'u32', '2.6'],
  ['fackets', 40, 'u32', '2.6'],
  ['lastDataSent', 44, 'u32', '2.6'],
  ['lastAckSent', 48, 'u32', '2.6'],
  ['lastDataRecv', 52, 'u32', '2.6'],
  ['lastAckRecv', 56, 'u32', '2.6'],
  ['pmtu', 60, 'u32', '2.6'],
  ['rcvSsthresh', 64, 'u32', '2.6'],
  ['rtt', 68, 'u32', '2.6'],
  ['rttvar', 72, 'u32', '2.6'],
  ['sndSsthresh', 76, 'u32', '2.6'],
  ['sndCwnd', 80, 'u32', '2.6'],
  ['advmss', 84, 'u32', '2.6'],
  ['reordering', 88, 'u32', '2.6'],
  ['rcvRtt', 92, 'u32', '2.6'],
  ['rcvSpace', 96, 'u32', '2.6'],
  ['totalRetrans', 100, 'u32', '2.6'],
  ['pacingRate', 104, 'rate', '3.15'],
  ['maxPacingRate', 112, 'rate', '3.15'],
  ['bytesAcked', 120, 'u64', '4.1'],
  ['bytesReceived', 128, 'u64', '4.1'],
  ['segsOut', 136, 'u32', '4.2'],
  ['segsIn', 140, 'u32', '4.2'],
  ['notsentBytes', 144, 'u32', '4.6'],
  ['minRtt', 148, 'u32', '4.6'],
  ['dataSegsIn', 152, 'u32', '4.6'],
  ['dataSegsOut', 156, 'u32', '4.6'],
  ['deliveryRate', 160, 'u64', '4.9'],
  ['busyTime', 168, 'u64', '4.10'],
  ['rwndLimited', 176, 'u64', '4.10'],
  ['sndbufLimited', 184, 'u64', '4.10'],
  ['delivered', 192, 'u32', '4.18'],
  ['deliveredCe', 196, 'u32', '4.18'],
  ['bytesSent', 200, 'u64', '4.19'],
  ['bytesRetrans', 208, 'u64', '4.19'],
  ['dsackDups', 216, 'u32', '4.19'],
  ['reordSeen', 220, 'u32', '4.19'],
  ['rcvOoopack', 224, 'u32', '5.4'],
  ['sndWnd', 228, 'u32', '5.4'],
  ['rcvWnd', 232, 'u32', '6.2'],
  ['rehash', 236, 'u32', '6.2'],
  ['totalRto', 240, 'u16', '6.7'],
  ['totalRtoRecoveries', 242, 'u16', '6.7'],
  ['totalRtoTime', 244, 'u32', '6.7'],
  ['receivedCe', 248, 'u32', '6.18'],
  ['deliveredE1Bytes', 252, 'u32', '6.18'],
  ['deliveredE0Bytes', 256, 'u32', '6.18'],
  ['deliveredCeBytes', 260, 'u32', '6.18'],
  ['receivedE1Bytes', 264, 'u32', '6.18'],
  ['receivedE0Bytes', 268, 'u32', '6.18'],
  ['receivedCeBytes', 272, 'u32', '6.18'],
  ['accecnFailMode', 276, 'u16', '6.18'],
  ['accecnOptSeen', 278, 'u16', '6.18'],
] as const satisfies ReadonlyArray<readonly [string, number, TcpInfoFieldKind, string]>;

/** The name of a tcp_info field read by offset (`state` included). */
export type TcpInfoField = 'state' | (typeof TCP_INFO_FIELDS)[number][0];

/**
 * Byte offsets of every field, for hot paths that read single fields from a
 * raw record (`TCP_INFO_OFFSETS.sndWnd`). Typed by string key, as in 0.1.0.
 */
export const TCP_INFO_OFFSETS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries([['state', 0], ...TCP_INFO_FIELDS.map(([name, off]) => [name, off])]) as Record<TcpInfoField, number>,
);

/** The largest tcp_info this table knows (kernel 6.18). */
export const TCP_INFO_KNOWN_LENGTH = 280;

/** TCP states as the kernel numbers them (include/net/tcp_states.h). */
export const TCP_STATES = [
  'UNKNOWN', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT',
  'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV', 'BOUND_INACTIVE',
] as const;
