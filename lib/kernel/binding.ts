/**
 * The one place the native addon is loaded, and only on first use: importing
 * a module does not load it, so the pure layers (the model, `tcp-vitals
 * doctor`) work where the .node file is missing. Everything else imports
 * `native` from here, typed against {@link NativeBinding}.
 */
import { basename, join } from 'node:path';
import nodeGypBuild from 'node-gyp-build';
import { platformSupported, unsupportedPlatformError } from './platform';

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
  readonly ETIMEDOUT: number;
  readonly EOPNOTSUPP: number;
  readonly ENOPROTOOPT: number;
  /** Offset of tcpi_notsent_bytes, which the batch read copies into its record header. */
  readonly TCP_INFO_NOTSENT_OFFSET: number;
  /** The shortest tcp_info any Linux returns (2.6), and so the smallest batch record payload. */
  readonly TCP_INFO_MIN_LENGTH: number;
  /** Bytes before the tcp_info copy in each batch record. */
  readonly RECORD_HEADER: number;
  /** Bytes before the tcp_info copy in each inspectFds record. */
  readonly INSPECT_HEADER: number;
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
  /** pidfd_open(pid, 0): a pidfd (close it with fs.closeSync), or -errno. */
  pidfdOpen(pid: number): number;
  /**
   * For each fd of the process behind `pidfd`: pidfd_getfd, read-only reads
   * (tcp_info, queues, keepalive/user-timeout/syncnt options, cookie,
   * addresses), close the duplicate. One record of `stride` bytes per fd,
   * layout in src-native/pidfd.h; errno per record (EOPNOTSUPP: not TCP).
   */
  inspectFds(pidfd: number, fds: Int32Array, count: number, out: Uint8Array, stride: number): number;
  /**
   * Reads `paths` from inside the network namespace `nsPath` (setns on the
   * calling thread, back before returning): contents or -errno per file; -errno
   * as a number when the namespace cannot be entered.
   */
  readFilesInNetns(nsPath: string, paths: string[]): Array<string | number> | number;
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
  /**
   * protect()'s per-connection call: sets the options of deathwatchAdd when
   * userTimeoutMs > 0 (TCP_KEEPCNT only when keepCount > 0), then adds the fd
   * to the deathwatch tagged `tag` (0..2^31-1, reported in place of the cookie's
   * low bits) when tag >= 0. No SO_COOKIE read. 0 or -errno.
   */
  deathwatchWatch(fd: number, tag: number, userTimeoutMs: number, keepIdleS: number, keepIntervalS: number, keepCount: number, rtoMaxMs: number): number;
  readonly constants: NativeConstants;
}

// The package root: these modules live in dist/kernel (lib/kernel under ts-jest); the bundled preload
// (scripts/bundle-register.js) in dist.
const ROOT = basename(__dirname) === 'kernel' ? join(__dirname, '..', '..') : join(__dirname, '..');
const METHODS = [
  'getsockopt', 'setsockopt', 'setsockoptInt', 'cookie', 'queues', 'tcpInfo', 'readBatch', 'pidfdOpen', 'inspectFds', 'readFilesInNetns',
  'deathwatchOpen', 'deathwatchAdd', 'deathwatchApply', 'deathwatchWatch',
] as const;
let loaded: NativeBinding | undefined;

/** The error thrown when no binary can be loaded: says what to do, keeps node-gyp-build's as `cause`. */
function noBinaryError(cause: unknown): Error {
  const arch = process.env.npm_config_arch || process.arch;
  const libc = process.env.LIBC || (/libc=musl/.test(String((cause as Error)?.message)) ? 'musl' : 'glibc');
  const err = new Error(`tcp-vitals: cannot load its native addon: no prebuild for linux-${arch} (${libc}) and it was not built `
    + 'from source: reinstall with python3, make and g++ available (Alpine: apk add build-base python3; '
    + 'Debian/Ubuntu: apt-get install python3 make g++)', { cause }) as Error & { code: string };
  err.code = 'ERR_TCP_VITALS_NO_ADDON';
  return err;
}

/**
 * Off Linux: `native.constants`, so that importing the package works (modules
 * size buffers from constants at import time). Every constant reads 0 there
 * (there is no kernel to take them from); every function that would use one
 * throws ERR_TCP_VITALS_UNSUPPORTED_PLATFORM first.
 */
const unsupportedConstants = new Proxy(Object.freeze({}) as NativeConstants, {
  get: (_target, key) => (typeof key === 'string' && key !== 'then' && key !== 'toJSON' ? 0 : undefined),
});

/**
 * Loads the addon (once): build/Release when built from source, else the
 * shipped prebuilds/linux-<arch>/tcp-vitals.<glibc|musl>.node (always the
 * prebuild under PREBUILDS_ONLY=1). After the first call, {@link native}'s
 * methods are the addon's own functions (no wrapper on the hot path). Off
 * Linux it throws ERR_TCP_VITALS_UNSUPPORTED_PLATFORM (and never tries to load).
 */
export function loadBinding(): NativeBinding {
  if (loaded) return loaded;
  if (!platformSupported()) throw unsupportedPlatformError();
  let addon: NativeBinding;
  try {
    addon = nodeGypBuild(ROOT) as NativeBinding;
  } catch (err) {
    throw noBinaryError(err);
  }
  loaded = addon;
  const target = native as { -readonly [K in keyof NativeBinding]: NativeBinding[K] };
  for (const name of METHODS) (target as unknown as Record<string, unknown>)[name] = addon[name];
  Object.defineProperty(target, 'constants', { value: addon.constants, enumerable: true });
  return addon;
}

/** Whether the addon has been loaded in this process. */
export function bindingLoaded(): boolean {
  return loaded !== undefined;
}

/**
 * The addon, loaded on first use of any method or of `constants`. Read
 * `native.constants` lazily (inside functions) in modules that the pure
 * layers import. Off Linux every constant reads 0 (so importing works).
 */
export const native = {
  get constants() { return platformSupported() ? loadBinding().constants : unsupportedConstants; },
} as NativeBinding;
for (const name of METHODS) {
  // Replaced by the addon's own function on first load (loadBinding).
  (native as unknown as Record<string, unknown>)[name] = (...args: unknown[]) =>
    (loadBinding()[name] as (...a: unknown[]) => unknown)(...args);
}
