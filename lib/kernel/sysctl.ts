/**
 * The TCP sysctls of the calling process's network namespace, read from
 * /proc/sys/net/ipv4 (readable without privileges). Every number the
 * deadline model uses comes from here, never from assumed defaults; only
 * knobs that the running kernel does not have at all (added in later
 * releases) fall back to the value the kernel hard-codes, and are listed in
 * {@link KernelSettings.absent}.
 */
import { readFileSync } from 'node:fs';
import { platformSupported, unsupportedPlatformError } from './platform';
import { release } from 'node:os';
import { ERRNO, systemError } from '../common/errors';
import { validateInteger } from '../common/validate';

/** TCP settings of this network namespace. Times are milliseconds. */
export interface KernelSettings {
  /** net.ipv4.tcp_retries1: RTO budget after which the kernel only re-routes / probes the path MTU (never kills). */
  retries1: number;
  /** net.ipv4.tcp_retries2: the give-up budget (turned into time by tcp_model_timeout) for established connections. */
  retries2: number;
  /** net.ipv4.tcp_syn_retries: SYN retransmissions before connect() gives up (TCP_SYNCNT overrides it). */
  synRetries: number;
  /** net.ipv4.tcp_syn_linear_timeouts (6.5+): SYN timeouts that stay at 1 s before backoff starts; 0 on older kernels. */
  synLinearTimeouts: number;
  /** net.ipv4.tcp_keepalive_time, ms: idle time before the first keepalive probe (TCP_KEEPIDLE overrides it). */
  keepAliveTimeMs: number;
  /** net.ipv4.tcp_keepalive_intvl, ms: time between keepalive probes (TCP_KEEPINTVL overrides it). */
  keepAliveIntervalMs: number;
  /** net.ipv4.tcp_keepalive_probes: unanswered probes before death (TCP_KEEPCNT overrides it). */
  keepAliveProbes: number;
  /** net.ipv4.tcp_rto_min_us (6.11+) converted to ms (may be fractional); 200 where the knob does not exist. */
  rtoMinMs: number;
  /** net.ipv4.tcp_rto_max_ms (6.15+), ms; 120000 where the knob does not exist. TCP_RTO_MAX_MS overrides it per socket. */
  rtoMaxMs: number;
  /** net.ipv4.tcp_orphan_retries (0 means 8 while the path is alive). Applies to sockets closed by the application. */
  orphanRetries: number;
  /** net.ipv4.tcp_fin_timeout, ms: FIN_WAIT2 lifetime of orphaned sockets. */
  finTimeoutMs: number;
  /**
   * The kernel's timer frequency (CONFIG_HZ, ticks per second) when it can be
   * read from /proc/config.gz or /boot/config-<release>; undefined otherwise.
   * It sets the timer-wheel granularity, i.e. how late the kernel's timers fire.
   */
  timerHz: number | undefined;
  /** Knobs this kernel does not have (their kernel-built-in values are used above). */
  absent: readonly string[];
}

/** Where the namespace's IPv4 sysctls live. */
export const SYSCTL_DIR = '/proc/sys/net/ipv4';

/** Reads one sysctl file (throws Node-shaped errors with `code` and `errno`). */
export type SysctlReader = (path: string) => string;
const readSysctlFile: SysctlReader = (path) => readFileSync(path, 'latin1');

function readNumber(dir: string, name: string, absentValue: number | undefined, absent: string[], read: SysctlReader): number {
  let text: string;
  try {
    text = read(`${dir}/${name}`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && absentValue !== undefined) {
      absent.push(name);
      return absentValue;
    }
    throw systemError(e.errno ?? -ERRNO.EIO, 'open', `${dir}/${name}`);
  }
  const value = Number(text.trim());
  if (!Number.isFinite(value)) throw systemError(-ERRNO.EINVAL, 'read', `${dir}/${name}: '${text.trim()}'`);
  return value;
}

let hzCache: { value: number | undefined } | null = null;

/** CONFIG_HZ of the running kernel, or undefined when no kernel config is readable. Read once per process. */
export function timerHz(): number | undefined {
  if (hzCache) return hzCache.value;
  let value: number | undefined;
  const sources: Array<() => string> = [
    // node:zlib only when needed (loading it costs every process memory).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    () => (require('node:zlib') as typeof import('node:zlib')).gunzipSync(readFileSync('/proc/config.gz')).toString('latin1'),
    () => readFileSync(`/boot/config-${release()}`, 'latin1'),
  ];
  for (const read of sources) {
    try {
      const m = /^CONFIG_HZ=(\d+)$/m.exec(read());
      if (m) { value = Number(m[1]); break; }
    } catch { /* not available here */ }
  }
  hzCache = { value };
  return value;
}

/**
 * Reads the settings from `dir` (a directory laid out like
 * /proc/sys/net/ipv4), each file through `read` (another namespace's reads go
 * through setns: see kernel/proc-net.ts). Exposed for tests; use {@link kernelSettings}.
 */
export function readKernelSettings(dir = SYSCTL_DIR, read: SysctlReader = readSysctlFile): KernelSettings {
  const absent: string[] = [];
  const n = (name: string, absentValue?: number) => readNumber(dir, name, absentValue, absent, read);
  return {
    retries1: n('tcp_retries1'),
    retries2: n('tcp_retries2'),
    synRetries: n('tcp_syn_retries'),
    synLinearTimeouts: n('tcp_syn_linear_timeouts', 0),
    keepAliveTimeMs: n('tcp_keepalive_time') * 1000,
    keepAliveIntervalMs: n('tcp_keepalive_intvl') * 1000,
    keepAliveProbes: n('tcp_keepalive_probes'),
    rtoMinMs: n('tcp_rto_min_us', 200_000) / 1000,
    rtoMaxMs: n('tcp_rto_max_ms', 120_000),
    orphanRetries: n('tcp_orphan_retries'),
    finTimeoutMs: n('tcp_fin_timeout') * 1000,
    timerHz: timerHz(),
    absent: Object.freeze(absent),
  };
}

let cache: { at: number; settings: KernelSettings } | null = null;

/**
 * The TCP sysctls of this process's network namespace. Values are cached for
 * at most `maxAgeMs` (default 1000 ms; 0 always re-reads) so a watcher can ask
 * every tick without touching /proc every tick. The returned object is frozen.
 * Throws a system error if a knob every Linux kernel has cannot be read;
 * ERR_TCP_VITALS_UNSUPPORTED_PLATFORM off Linux.
 */
export function kernelSettings(options: { maxAgeMs?: number } = {}): Readonly<KernelSettings> {
  const maxAgeMs = options.maxAgeMs === undefined ? 1000 : validateInteger('options.maxAgeMs', options.maxAgeMs, 0, 3_600_000);
  if (!platformSupported()) throw unsupportedPlatformError();
  const t = performance.now();
  if (cache && maxAgeMs > 0 && t - cache.at < maxAgeMs) return cache.settings;
  const settings = Object.freeze(readKernelSettings());
  cache = { at: t, settings };
  return settings;
}
