/**
 * Finding another process's TCP sockets from /proc: its socket descriptors
 * (/proc/PID/fd -> socket:[inode]), its network namespace (/proc/PID/ns/net)
 * and the TCP sysctls of that namespace.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { native } from './binding';
import { ERRNO, systemError } from '../common/errors';
import { KernelSettings, kernelSettings, readKernelSettings, SYSCTL_DIR } from './sysctl';

/** One socket descriptor of a process. */
export interface SocketFd {
  /** The descriptor number in the target process. */
  fd: number;
  /** The socket's inode (the N of socket:[N]). */
  inode: number;
}

function errnoOf(e: unknown): number {
  return (e as NodeJS.ErrnoException).errno ?? -ERRNO.EIO;
}

/**
 * The socket descriptors of process `pid`, sorted by fd. Needs the right to
 * read /proc/PID/fd (same user or root): `open EACCES (/proc/PID/fd)` otherwise,
 * `open ENOENT` for a process that does not exist.
 */
export function socketFds(pid: number): SocketFd[] {
  const dir = `/proc/${pid}/fd`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw systemError(errnoOf(e), 'open', dir);
  }
  const out: SocketFd[] = [];
  for (const name of names) {
    let link: string;
    try {
      link = readlinkSync(`${dir}/${name}`);
    } catch {
      continue; // closed meanwhile
    }
    if (link.startsWith('socket:[')) out.push({ fd: Number(name), inode: Number(link.slice(8, -1)) });
  }
  return out.sort((x, y) => x.fd - y.fd);
}

/** The inode of a process's network namespace (/proc/PID/ns/net), or of this process's with 'self'. */
export function netnsInode(pid: number | 'self'): number {
  const path = `/proc/${pid}/ns/net`;
  try {
    return statSync(path).ino;
  } catch (e) {
    throw systemError(errnoOf(e), 'stat', path);
  }
}

/** Every process id in /proc, ascending (except this process). */
export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((p) => p !== process.pid)
    .sort((x, y) => x - y);
}

/** The process's command name (/proc/PID/comm), or '?' when unreadable. */
export function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

const netnsCache = new Map<number, { at: number; settings: Readonly<KernelSettings> }>();

/**
 * The TCP sysctls of the network namespace process `pid` lives in. /proc/sys
 * always shows the namespace of the thread that opens it, so for a process in
 * another namespace this thread enters that namespace with setns(2) for the
 * duration of the reads (native.readFilesInNetns; needs CAP_SYS_ADMIN, i.e.
 * root) and returns to its own at once. Same namespace: kernelSettings().
 * Cached per namespace for `maxAgeMs` (default 1000).
 */
export function kernelSettingsOf(pid: number, maxAgeMs = 1000): Readonly<KernelSettings> {
  const ns = netnsInode(pid);
  if (ns === netnsInode('self')) return kernelSettings({ maxAgeMs });
  const cached = netnsCache.get(ns);
  const now = performance.now();
  if (cached && now - cached.at < maxAgeMs) return cached.settings;
  const nsPath = `/proc/${pid}/ns/net`;
  const contents = new Map<string, string | number>();
  const read = (path: string): string => {
    let value = contents.get(path);
    if (value === undefined) {
      // Every knob in one setns round trip: ask for the whole list on first use.
      const names = SYSCTL_KNOBS.map((k) => `${SYSCTL_DIR}/${k}`);
      const r = native.readFilesInNetns(nsPath, names);
      if (typeof r === 'number') throw systemError(r, 'setns', `${nsPath}: reading another namespace's sysctls needs root`);
      names.forEach((n, i) => contents.set(n, r[i]));
      value = contents.get(path) ?? -2;
    }
    if (typeof value === 'number') throw systemError(value, 'open', path);
    return value;
  };
  const settings = Object.freeze(readKernelSettings(SYSCTL_DIR, read));
  netnsCache.set(ns, { at: now, settings });
  return settings;
}

/** The files readKernelSettings() reads (a superset is harmless). */
const SYSCTL_KNOBS = [
  'tcp_retries1', 'tcp_retries2', 'tcp_syn_retries', 'tcp_syn_linear_timeouts', 'tcp_keepalive_time',
  'tcp_keepalive_intvl', 'tcp_keepalive_probes', 'tcp_rto_min_us', 'tcp_rto_max_ms', 'tcp_orphan_retries',
  'tcp_fin_timeout',
];
