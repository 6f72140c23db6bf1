/**
 * The batch record of one socket (header: tcp_info length, errno, SIOCOUTQ,
 * SIOCOUTQNSD; then tcp_info as the kernel returned it) and the read-only
 * {@link Sample} view over it; {@link readOne} reads one fd into a record now.
 */
import { native } from '../kernel/binding';
import { decodeTcpInfo, readU64, TcpInfo, TCP_INFO_KNOWN_LENGTH } from '../kernel/tcpinfo';

const HEADER = native.constants.RECORD_HEADER;
/** Record stride: header + the largest tcp_info we decode, rounded to 8. */
export const RECORD_STRIDE = HEADER + Math.ceil(TCP_INFO_KNOWN_LENGTH / 8) * 8;
/** A read-only view of one socket's batch record. */
export class Sample {
  private records: Buffer = Buffer.alloc(0);
  /** Int32 view of the records (8-byte aligned): header reads are plain loads. */
  private words: Int32Array = new Int32Array(0);
  /** @internal The record buffer being viewed; setting it rebuilds the Int32 view only when it changes. */
  get buf(): Buffer { return this.records; }
  set buf(records: Buffer) {
    if (records === this.records) return;
    if (records.byteOffset % 4 !== 0) throw new RangeError('batch records must be 4-byte aligned');
    this.records = records;
    this.words = new Int32Array(records.buffer, records.byteOffset, records.length >> 2);
  }
  /** @internal */ base = 0;
  /** errno of the read (0 = ok; ESTALE = the fd now belongs to another socket). */
  get errno(): number { return this.words[(this.base >> 2) + 1]; }
  /** Bytes of tcp_info the kernel returned (0 on error). */
  get infoLength(): number { return this.words[this.base >> 2]; }
  /** SIOCOUTQ, bytes (unacked + unsent, +1 for a queued FIN). */
  get sendQueue(): number { return this.words[(this.base >> 2) + 2]; }
  /** SIOCOUTQNSD, bytes never sent. */
  get unsent(): number { return this.words[(this.base >> 2) + 3]; }
  /** tcpi_state number (7 = CLOSE). */
  get state(): number { return this.buf[this.base + HEADER]; }
  /** A u8 tcp_info field at byte `off`. */
  u8(off: number): number { return this.buf[this.base + HEADER + off]; }
  /** A u16 tcp_info field at byte `off` (0 if the kernel did not return it). */
  u16(off: number): number { return off + 2 <= this.infoLength ? this.buf.readUInt16LE(this.base + HEADER + off) : 0; }
  /** A u32 tcp_info field at byte `off` (0 if the kernel did not return it). */
  u32(off: number): number { return off + 4 <= this.infoLength ? this.buf.readUInt32LE(this.base + HEADER + off) : 0; }
  /** A u64 tcp_info field at byte `off`, as a number (0 if absent). */
  u64(off: number): number { return off + 8 <= this.infoLength ? readU64(this.buf, this.base + HEADER + off) : 0; }
  /** Whether the kernel returned the field at [off, off+size). */
  has(off: number, size: number): boolean { return off + size <= this.infoLength; }
  /** Full decode (allocates; for events, not for every tick). */
  decode(): TcpInfo { return decodeTcpInfo(this.buf, this.infoLength, this.base + HEADER); }
}

const oneFd = new Int32Array(1);
const oneCookie = new BigUint64Array(1);
const oneRecord = Buffer.alloc(RECORD_STRIDE);
const oneSample = new Sample();

/**
 * Reads one fd now, outside the schedule: the same record a tick gives
 * (tcp_info, SIOCOUTQ, SIOCOUTQNSD) in one native call. Returns a shared view,
 * valid until the next readOne(), or null when the fd is unusable, not TCP, or
 * (non-zero cookie) no longer the expected socket.
 */
export function readOne(fd: number, cookie = 0n): Sample | null {
  oneFd[0] = fd;
  oneCookie[0] = cookie;
  native.readBatch(oneFd, oneCookie, 1, oneRecord, RECORD_STRIDE);
  oneSample.buf = oneRecord;
  oneSample.base = 0;
  return oneSample.errno === 0 && oneSample.infoLength > 0 ? oneSample : null;
}

