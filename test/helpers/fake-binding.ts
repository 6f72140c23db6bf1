/**
 * A fake batch binding for unit tests of the scheduler and the controllers:
 * synthetic readings written into the records exactly as the addon lays them
 * out (header: tcp_info length, errno, SIOCOUTQ, SIOCOUTQNSD; then tcp_info).
 * Pure logic only: kernel facts are tested against the real kernel elsewhere.
 */
import { native } from '../../lib/kernel/binding';
import { TCP_INFO_KNOWN_LENGTH, TCP_INFO_OFFSETS } from '../../lib/kernel/tcpinfo';
import { BatchBinding } from '../../lib/runtime/scheduler';

const HEADER = native.constants.RECORD_HEADER;

/** One synthetic reading: header values plus tcp_info fields by name (u8/u32/u64 by their offset). */
export interface FakeReading {
  errno?: number;
  state?: number;
  sendQueue?: number;
  unsent?: number;
  /** tcp_info length the "kernel" returns (default 280). */
  infoLength?: number;
  fields?: Partial<Record<keyof typeof TCP_INFO_OFFSETS | string, number>>;
}

const U8 = new Set(['state', 'caState', 'retransmits', 'probes', 'backoff', 'options']);
const U64 = new Set(['pacingRate', 'maxPacingRate', 'bytesAcked', 'bytesReceived', 'deliveryRate', 'busyTime',
  'rwndLimited', 'sndbufLimited', 'bytesSent', 'bytesRetrans']);

/** Writes `r` as one record at `base` of `out`. */
export function writeRecord(out: Uint8Array, base: number, r: FakeReading): void {
  const buf = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  buf.fill(0, base, base + HEADER + TCP_INFO_KNOWN_LENGTH);
  const errno = r.errno ?? 0;
  const len = errno ? 0 : (r.infoLength ?? TCP_INFO_KNOWN_LENGTH);
  buf.writeInt32LE(len, base);
  buf.writeInt32LE(errno, base + 4);
  buf.writeInt32LE(r.sendQueue ?? 0, base + 8);
  buf.writeInt32LE(r.unsent ?? 0, base + 12);
  if (errno) return;
  const info = base + HEADER;
  buf[info] = r.state ?? 1;
  for (const [name, value] of Object.entries(r.fields ?? {})) {
    const off = (TCP_INFO_OFFSETS as Readonly<Record<string, number>>)[name];
    if (off === undefined || value === undefined) throw new Error(`unknown tcp_info field ${name}`);
    if (U8.has(name)) buf[info + off] = value;
    else if (U64.has(name)) buf.writeBigUInt64LE(BigInt(value), info + off);
    else if (name === 'totalRto' || name === 'totalRtoRecoveries') buf.writeUInt16LE(value, info + off);
    else buf.writeUInt32LE(value, info + off);
  }
}

/** A binding whose readBatch answers each fd from `readings` (fd -> reading); unknown fds give EBADF. */
export class FakeBinding implements BatchBinding {
  readonly readings = new Map<number, FakeReading>();
  /** fds of every readBatch call, in order. */
  readonly calls: number[][] = [];
  readBatch(fds: Int32Array, _cookies: BigUint64Array | null, count: number, out: Uint8Array, stride: number): number {
    const call: number[] = [];
    for (let i = 0; i < count; i++) {
      call.push(fds[i]);
      writeRecord(out, i * stride, this.readings.get(fds[i]) ?? { errno: 9 });
    }
    this.calls.push(call);
    return count;
  }
}

/** A manual clock (ms). */
export class FakeClock {
  t = 1000;
  readonly now = (): number => this.t;
  advance(ms: number): number { this.t += ms; return this.t; }
}
