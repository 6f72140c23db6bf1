/**
 * The one place the metric collectors (tcp-vitals/prometheus, tcp-vitals/otel)
 * read connections: every socket in the process-wide registry
 * (runtime/connections: protect() and track()), read with ONE native batch
 * read per collection, folded into series keyed by a bounded peer label.
 *
 * Allocation: per socket, one small state object the first time it is seen;
 * per series, one object the first time it appears. A collection itself
 * reuses typed arrays and the batch record buffer.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { fdOrNone } from '../kernel/fd';
import { TCP_INFO_OFFSETS, TCP_STATES } from '../kernel/tcpinfo';
import { connections, ConnectionMeta, DEATH_CHANNEL, DeathMessage } from '../runtime/connections';
import { BatchReader } from '../kernel/batch';
import { cookieOrNone, rememberedCookie } from '../kernel/identity';
import { invalidArgType, outOfRange } from '../common/errors';

/** Default most distinct peer labels; the rest are folded into {@link OTHER_PEER}. */
export const DEFAULT_MAX_PEERS = 50;
/** The peer label of every connection beyond the cap. */
export const OTHER_PEER = 'other';
/** Number of tcp states (TCP_STATES index = tcpi_state). */
export const STATE_COUNT = TCP_STATES.length;

const OFF_RTT = TCP_INFO_OFFSETS.rtt;
const OFF_RTTVAR = TCP_INFO_OFFSETS.rttvar;
const OFF_TOTAL_RETRANS = TCP_INFO_OFFSETS.totalRetrans;
const OFF_TOTAL_RTO = TCP_INFO_OFFSETS.totalRto;
const OFF_DSACK_DUPS = TCP_INFO_OFFSETS.dsackDups;

/** One label set: a peer (capped) plus the user's extra labels. Objects live as long as the reader. */
export interface Series {
  /** `host:port` (outbound), the peer address (inbound), or 'other'. */
  readonly peer: string;
  /** Peer address/host, undefined for 'other'. */
  readonly address: string | undefined;
  /** Peer port (outbound only), undefined otherwise. */
  readonly port: number | undefined;
  /** Values of the reader's extra label names, in order ('' when a socket has none). */
  readonly extra: readonly string[];
  /** Connections per tcp state (index = tcpi_state) in the last collection. */
  readonly byState: Float64Array;
  /** Sum of (SIOCOUTQ - SIOCOUTQNSD) over the series' connections, bytes. */
  unacknowledged: number;
  /** Sum of SIOCOUTQNSD, bytes. */
  unsent: number;
  /** Retransmitted segments counted so far (sum of per-socket deltas; survives closes). */
  retransmits: number;
  /** Retransmitted segments counted by the last collection. */
  retransmitsDelta: number;
  /** Of `retransmits`: those the retransmission timer sent (tcpi_total_rto deltas, Linux >= 6.7). */
  retransmitsTimeout: number;
  /** Of `retransmits`: those of sockets whose kernel has no tcpi_total_rto (type unknown). */
  retransmitsUntyped: number;
  /** Retransmissions the peer reported as duplicates (D-SACK, tcpi_dsack_dups deltas): spurious ones. */
  spuriousRetransmits: number;
  /** Connections in this series in the last collection. */
  connections: number;
  /** Per-exporter cache (e.g. the prom-client label object). */
  cache: Record<string, unknown>;
}

interface SocketState {
  series: Series;
  lastRetrans: number;
  lastRto: number;
  lastDsack: number;
  gen: number;
}

/** Reader options (shared by both collectors). */
export interface ReaderOptions {
  /** Most distinct peer labels (default 50); the rest become 'other'. */
  maxPeers?: number;
  /** Extra label names, read from the labels given to track() ('' when absent). */
  labelNames?: readonly string[];
}

/** What a collection produced: the series, and each socket's rtt for histograms. */
export interface Reading {
  /** Increases with every collection: lets an exporter apply one reading once. */
  readonly generation: number;
  /** Every series seen since the reader was made (counters need the closed ones too). */
  readonly series: readonly Series[];
  /** Sockets read in this collection. */
  readonly count: number;
  /** Smoothed rtt of socket i, seconds. */
  readonly rtt: Float64Array;
  /** rtt variance of socket i, seconds. */
  readonly rttvar: Float64Array;
  /** The series of socket i. */
  readonly seriesOf: readonly Series[];
}

/** Validates the options shared by the collectors; returns them normalised. */
export function readerOptions(options: ReaderOptions | undefined): Required<ReaderOptions> {
  if (options !== undefined && (options === null || typeof options !== 'object')) throw invalidArgType('options', 'an object', options);
  const maxPeers = options?.maxPeers ?? DEFAULT_MAX_PEERS;
  if (!Number.isInteger(maxPeers) || maxPeers < 0 || maxPeers > 100_000) throw outOfRange('options.maxPeers', 'an integer >= 0 and <= 100000', maxPeers);
  const labelNames = options?.labelNames ?? [];
  if (!Array.isArray(labelNames) || labelNames.some((n) => typeof n !== 'string' || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n))) {
    throw invalidArgType('options.labelNames', 'an array of label names ([a-zA-Z_][a-zA-Z0-9_]*)', labelNames);
  }
  return { maxPeers, labelNames: [...labelNames] };
}

/** Reads every registered connection once per collection. One reader per collector. */
export class ConnectionReader {
  private readonly maxPeers: number;
  private readonly labelNames: readonly string[];
  private readonly peers = new Set<string>();
  private readonly seriesByKey = new Map<string, Series>();
  private readonly allSeries: Series[] = [];
  private readonly sockets = new Map<Socket, SocketState>();
  private readonly picked: SocketState[] = [];
  private readonly seriesOf: Series[] = [];
  private readonly batch = new BatchReader();
  private rtt = new Float64Array(64);
  private rttvar = new Float64Array(64);
  private gen = 0;

  constructor(options?: ReaderOptions) {
    const o = readerOptions(options);
    this.maxPeers = o.maxPeers;
    this.labelNames = o.labelNames;
  }

  /** Distinct peer labels admitted so far (at most maxPeers, plus 'other'). */
  get peerCount(): number { return this.peers.size; }

  private grow(n: number): void {
    if (n <= this.batch.capacity) return;
    this.batch.reserve(n, n - 1); // keeps the entries gathered so far in this collection
    this.rtt = new Float64Array(this.batch.capacity);
    this.rttvar = new Float64Array(this.batch.capacity);
  }

  /** The bounded peer label of a connection: admitted first come, first served. */
  private peerOf(socket: Socket, meta: ConnectionMeta): { peer: string; address?: string; port?: number } {
    const inbound = meta.direction === 'inbound';
    return this.peerLabel(meta.host ?? socket.remoteAddress, inbound ? undefined : meta.port ?? socket.remotePort);
  }

  /** The bounded peer label of an address and port (port undefined for inbound), sharing this reader's cap. */
  peerLabel(address: string | undefined, port: number | undefined): { peer: string; address?: string; port?: number } {
    if (address === undefined) return { peer: OTHER_PEER };
    const peer = port === undefined ? address : address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    if (this.peers.has(peer)) return { peer, address, port };
    if (this.peers.size >= this.maxPeers) return { peer: OTHER_PEER };
    this.peers.add(peer);
    return { peer, address, port };
  }

  private seriesFor(socket: Socket, meta: ConnectionMeta): Series {
    const p = this.peerOf(socket, meta);
    const extra = this.labelNames.map((n) => meta.labels?.[n] ?? '');
    const key = extra.length === 0 ? p.peer : `${p.peer}\0${extra.join('\0')}`;
    let s = this.seriesByKey.get(key);
    if (!s) {
      s = {
        peer: p.peer, address: p.address, port: p.port, extra, byState: new Float64Array(STATE_COUNT),
        unacknowledged: 0, unsent: 0, retransmits: 0, retransmitsDelta: 0, retransmitsTimeout: 0, retransmitsUntyped: 0,
        spuriousRetransmits: 0, connections: 0, cache: {},
      };
      this.seriesByKey.set(key, s);
      this.allSeries.push(s);
    }
    return s;
  }

  /** Reads every registered connection now (one native batch read). */
  read(): Reading {
    const gen = ++this.gen;
    for (const s of this.allSeries) {
      s.byState.fill(0);
      s.unacknowledged = 0; s.unsent = 0; s.retransmitsDelta = 0; s.connections = 0;
    }
    const picked = this.picked;
    picked.length = 0;
    let n = 0;
    for (const [socket, meta] of connections()) {
      // The fd is taken from the live handle right before the read, with no JS
      // in between: it cannot be closed and reused before readBatch sees it.
      const fd = fdOrNone(socket);
      if (fd < 0) continue;
      // The socket's SO_COOKIE (remembered per handle): the read refuses a reused fd.
      const cookie = rememberedCookie(socket) ?? cookieOrNone(socket, fd);
      if (cookie === null) continue;
      let st = this.sockets.get(socket);
      if (!st) {
        if (socket.remoteAddress === undefined && meta.host === undefined) continue; // not connected yet: no peer to name
        st = { series: this.seriesFor(socket, meta), lastRetrans: 0, lastRto: 0, lastDsack: 0, gen };
        this.sockets.set(socket, st);
      }
      st.gen = gen;
      if (n === this.batch.capacity) this.grow(n + 1);
      this.batch.fds[n] = fd;
      this.batch.cookies[n++] = cookie;
      picked.push(st);
    }
    const seriesOf = this.seriesOf;
    seriesOf.length = 0;
    let count = 0;
    if (n > 0) {
      this.batch.read(n);
      for (let i = 0; i < n; i++) {
        const sm = this.batch.at(i);
        if (sm.errno !== 0 || sm.infoLength <= 0) continue;
        const st = picked[i];
        const s = st.series;
        const retrans = sm.u32(OFF_TOTAL_RETRANS);
        const delta = retrans > st.lastRetrans ? retrans - st.lastRetrans : 0;
        st.lastRetrans = retrans;
        s.retransmits += delta;
        s.retransmitsDelta += delta;
        if (sm.has(OFF_TOTAL_RTO, 2)) {
          const rto = sm.u16(OFF_TOTAL_RTO); // u16: wraps after 65535 timeouts
          s.retransmitsTimeout += Math.min(delta, (rto - st.lastRto + 65536) % 65536);
          st.lastRto = rto;
        } else {
          s.retransmitsUntyped += delta;
        }
        const dsack = sm.u32(OFF_DSACK_DUPS);
        if (dsack > st.lastDsack) s.spuriousRetransmits += dsack - st.lastDsack;
        st.lastDsack = dsack;
        const state = sm.state;
        if (state < STATE_COUNT) s.byState[state]++;
        s.connections++;
        s.unsent += sm.unsent;
        s.unacknowledged += Math.max(0, sm.sendQueue - sm.unsent);
        this.rtt[count] = sm.u32(OFF_RTT) / 1e6;
        this.rttvar[count] = sm.u32(OFF_RTTVAR) / 1e6;
        seriesOf.push(s);
        count++;
      }
    }
    picked.length = 0;
    // Forget sockets that left the registry (closed); their series keep their totals.
    if (this.sockets.size > n) for (const [socket, st] of this.sockets) if (st.gen !== gen) this.sockets.delete(socket);
    return { generation: gen, series: this.allSeries, count, rtt: this.rtt, rttvar: this.rttvar, seriesOf };
  }

  private cached: Reading | null = null;
  private readonly invalidate = (): void => { this.cached = null; };

  /**
   * The reading of the current collection: the first call in an event-loop
   * turn reads, later calls in the same turn share it (a registry collects
   * all its metrics in one turn, so a scrape reads each socket once).
   */
  current(): Reading {
    if (this.cached) return this.cached;
    this.cached = this.read();
    setImmediate(this.invalidate).unref();
    return this.cached;
  }

  /** Forgets every socket (the collector stopped): the reader holds no socket afterwards. */
  clear(): void {
    this.sockets.clear();
    this.picked.length = 0;
    this.seriesOf.length = 0;
    this.cached = null;
  }

  /** The series a death of `socket` belongs to (peer capped like the gauges), for death events. */
  seriesOfSocket(socket: Socket): Series | undefined {
    return this.sockets.get(socket)?.series;
  }
}

/** tcpi_state number -> lower-case name ('established', 'syn_sent', ...), as OTel's network.connection.state. */
export const STATE_NAMES_LOWER: readonly string[] = TCP_STATES.map((s) => s.toLowerCase());

/** A death as the collectors count it. */
export interface DeathEvent {
  /** PeerGoneError reason ('retransmit', 'keepalive', ...), or 'unknown'. */
  readonly reason: string;
  /** Time from the peer's last sign of life to the detection, seconds (undefined when unknown). */
  readonly detectionSeconds: number | undefined;
}

/** Calls `fn` for every death published on 'tcp-vitals:death'; returns the unsubscribe function. */
export function onDeath(fn: (death: DeathEvent, socket: Socket) => void): () => void {
  const listener = (message: unknown): void => {
    const m = message as Partial<DeathMessage> | null;
    const err = m?.error;
    const reason = typeof err?.reason === 'string' && err.reason !== '' ? err.reason : 'unknown';
    const silent = err?.silentMs;
    const detectionSeconds = typeof silent === 'number' && Number.isFinite(silent) && silent >= 0 ? silent / 1000 : undefined;
    try {
      fn({ reason, detectionSeconds }, m?.socket as Socket);
    } catch (e) {
      // A collector bug must not break the publisher (the death path of protect()).
      process.nextTick(() => { throw e; });
    }
  };
  subscribe(DEATH_CHANNEL, listener);
  return () => { unsubscribe(DEATH_CHANNEL, listener); };
}
