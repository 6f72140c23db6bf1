/**
 * The batch read, the one door through which tcp_info reaches the package: a
 * record per socket (header: tcp_info length, errno, SIOCOUTQ, SIOCOUTQNSD;
 * then tcp_info), the {@link Sample} view, and {@link BatchReader}, owner of
 * one caller's fds, cookies and record buffer. The cookie check is not
 * optional: the addon compares each fd's SO_COOKIE before reading (a reused fd
 * gives ESTALE), and an entry without one (0n) is never read (EBADF).
 */
import { native, NativeBinding } from './binding';
import { decodeTcpInfo, readU64, TcpInfo, TCP_INFO_KNOWN_LENGTH } from './tcpinfo';

/** The part of the addon a batch reader uses (tests inject a fake one). */
export type BatchBinding = Pick<NativeBinding, 'readBatch'>;

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

/**
 * One caller's batch: fill `fds[i]` and `cookies[i]` (after {@link reserve}),
 * {@link read}, then {@link at}(i). Nothing is allocated per read.
 */
export class BatchReader {
  fds: Int32Array;
  cookies: BigUint64Array;
  private out: Buffer;
  private readonly sample = new Sample();

  constructor(private readonly binding: BatchBinding = native, capacity = 64) {
    this.fds = new Int32Array(capacity);
    this.cookies = new BigUint64Array(capacity);
    this.out = Buffer.alloc(capacity * RECORD_STRIDE);
  }

  /** Entries the reader holds without growing. */
  get capacity(): number { return this.fds.length; }

  /** Room for `n` entries; keeps the first `keep` fds and cookies already filled in. */
  reserve(n: number, keep = 0): void {
    if (n <= this.fds.length) return;
    let cap = this.fds.length;
    while (cap < n) cap *= 2;
    const fds = new Int32Array(cap), cookies = new BigUint64Array(cap);
    fds.set(this.fds.subarray(0, keep));
    cookies.set(this.cookies.subarray(0, keep));
    [this.fds, this.cookies] = [fds, cookies];
    this.out = Buffer.alloc(cap * RECORD_STRIDE);
  }

  /** Reads the first `count` entries in one native call; an entry without a cookie is not read (EBADF). */
  read(count: number): void {
    const fds = this.fds;
    const cookies = this.cookies;
    for (let i = 0; i < count; i++) if (cookies[i] === 0n) fds[i] = -1;
    this.binding.readBatch(fds, cookies, count, this.out, RECORD_STRIDE);
    this.sample.buf = this.out;
  }

  /** The record of entry `i` of the last read (the same shared view each time, valid until the next call). */
  at(i: number): Sample {
    this.sample.base = i * RECORD_STRIDE;
    return this.sample;
  }
}

let one: BatchReader | null = null;

/**
 * Reads one fd now, outside any schedule: the same record a batch gives, in
 * one native call, checked against `cookie` (the socket's SO_COOKIE). Returns
 * a shared view, valid until the next readOne(), or null when the fd is
 * unusable, not TCP, no longer the expected socket, or `cookie` is 0n.
 */
export function readOne(fd: number, cookie: bigint): Sample | null {
  one ??= new BatchReader(native, 1);
  one.fds[0] = fd;
  one.cookies[0] = cookie;
  one.read(1);
  const s = one.at(0);
  return s.errno === 0 && s.infoLength > 0 ? s : null;
}
