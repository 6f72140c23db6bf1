/**
 * The one place the native addon is loaded. Everything else imports `native`
 * from here, typed against {@link NativeBinding}.
 */
import { join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import nodeGypBuild = require('node-gyp-build');

/** Kernel constants exported by the addon (values of the running ABI). */
export interface NativeConstants {
  readonly SOL_SOCKET: number;
  readonly IPPROTO_TCP: number;
  readonly IPPROTO_IP: number;
  readonly IPPROTO_IPV6: number;
  readonly SO_KEEPALIVE: number;
  readonly SO_LINGER: number;
  readonly SO_SNDBUF: number;
  readonly SO_RCVBUF: number;
  readonly SO_ERROR: number;
  readonly SO_TYPE: number;
  readonly SO_PROTOCOL: number;
  readonly SO_DOMAIN: number;
  readonly SO_REUSEADDR: number;
  readonly SO_REUSEPORT: number;
  readonly SO_COOKIE: number;
  readonly SO_MAX_PACING_RATE: number;
  readonly TCP_NODELAY: number;
  readonly TCP_MAXSEG: number;
  readonly TCP_CORK: number;
  readonly TCP_KEEPIDLE: number;
  readonly TCP_KEEPINTVL: number;
  readonly TCP_KEEPCNT: number;
  readonly TCP_SYNCNT: number;
  readonly TCP_LINGER2: number;
  readonly TCP_DEFER_ACCEPT: number;
  readonly TCP_INFO: number;
  readonly TCP_QUICKACK: number;
  readonly TCP_CONGESTION: number;
  readonly TCP_USER_TIMEOUT: number;
  readonly TCP_NOTSENT_LOWAT: number;
  readonly TCP_RTO_MAX_MS: number;
  readonly TCP_RTO_MIN_US: number;
  readonly TCP_DELACK_MAX_US: number;
  readonly SIOCINQ: number;
  readonly SIOCOUTQ: number;
  readonly SIOCOUTQNSD: number;
  readonly AF_INET: number;
  readonly AF_INET6: number;
  readonly AF_UNIX: number;
  readonly SOCK_STREAM: number;
  readonly SOCK_DGRAM: number;
  readonly ESTALE: number;
  /** Bytes before the tcp_info copy in each batch record. */
  readonly RECORD_HEADER: number;
}

/**
 * The raw addon. Syscall failures come back as negative errno numbers (never
 * thrown); wrong argument types throw TypeError/RangeError.
 */
export interface NativeBinding {
  /** Bytes written into `buf`, or -errno. */
  getsockopt(fd: number, level: number, name: number, buf: Uint8Array): number;
  /** 0, or -errno. */
  setsockopt(fd: number, level: number, name: number, buf: Uint8Array): number;
  /** 0, or -errno. */
  setsockoptInt(fd: number, level: number, name: number, value: number): number;
  /** SO_COOKIE, or -errno as a number. */
  cookie(fd: number): bigint | number;
  /** Fills out = [SIOCOUTQ, SIOCOUTQNSD, SIOCINQ]; 0 or -errno (-EOPNOTSUPP for non-TCP). */
  queues(fd: number, out: Int32Array): number;
  /** TCP_INFO into `buf` (zeroed first); the running kernel's length, or -errno. */
  tcpInfo(fd: number, buf: Uint8Array): number;
  /**
   * One record of `stride` bytes per fd: int32 infoLength, int32 errno,
   * int32 SIOCOUTQ, int32 SIOCOUTQNSD, 16 reserved bytes, then tcp_info.
   * A non-zero expected cookie that does not match gives errno ESTALE.
   */
  readBatch(fds: Int32Array, cookies: BigUint64Array | null, count: number, out: Uint8Array, stride: number): number;
  /**
   * Opens this environment's deathwatch (one epoll set + one unref'd uv_poll;
   * idempotent, a second call replaces the callback and buffer). On kernel
   * verdicts `callback(count)` runs with `out` holding `count` triples
   * [fd, cookie low 32 bits, epoll revents] (SO_ERROR is not read). 0 or -errno.
   */
  deathwatchOpen(callback: (count: number) => void, out: Float64Array): number;
  /**
   * Sets SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT, TCP_USER_TIMEOUT (and
   * TCP_RTO_MAX_MS when rtoMaxMs > 0 and the kernel has it), reads SO_COOKIE
   * and adds the fd to the deathwatch, in one call: the cookie, or -errno.
   */
  deathwatchAdd(fd: number, userTimeoutMs: number, keepIdleS: number, keepIntervalS: number, keepCount: number, rtoMaxMs: number): number;
  /** The options of deathwatchAdd only (after a client's setKeepAlive): 0 or -errno. */
  deathwatchApply(fd: number, userTimeoutMs: number, keepIdleS: number, keepIntervalS: number, keepCount: number, rtoMaxMs: number): number;
  readonly constants: NativeConstants;
}

/**
 * The loaded addon: build/Release when built from source, else the shipped
 * prebuilds/<platform>-<arch>/tcp-vitals.node (always the prebuild under PREBUILDS_ONLY=1).
 */
export const native = nodeGypBuild(join(__dirname, '..', '..')) as NativeBinding;
