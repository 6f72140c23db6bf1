/**
 * The TCP facts of one HTTP request, as span attributes: shared by the
 * @opentelemetry/instrumentation-http hooks (otel-http.ts) and the
 * undici/fetch diagnostics-channel subscriber (otel-undici.ts).
 *
 * A request is followed from its start (the socket known) to its end: one
 * native read at each (tcp_info + send queue), a timer only for the slow
 * verdict. Attribute names: OTel's `network.peer.*` where they exist, the
 * rest under `tcp.*`.
 */
import * as net from 'node:net';
import { diagnose } from '../readings/diagnose';
import { fdOrNone } from '../kernel/fd';
import { TCP_INFO_OFFSETS } from '../kernel/tcpinfo';
import { readOne, Sample } from '../kernel/batch';
import { cookieOrNone, rememberedCookie } from '../kernel/identity';
import { invalidArgType, outOfRange } from '../common/errors';

/** Span attribute names set by the hooks. */
export const SPAN_ATTRIBUTES = Object.freeze({
  peerAddress: 'network.peer.address',
  peerPort: 'network.peer.port',
  transport: 'network.transport',
  /** Smoothed round-trip time at the end of the request, seconds. */
  rtt: 'tcp.rtt',
  /** Round-trip time variance at the end of the request, seconds. */
  rttVariance: 'tcp.rtt_variance',
  /** Segments retransmitted between the start and the end of the request (tcpi_total_retrans delta). */
  retransmits: 'tcp.retransmits',
  /** Bytes sent and not yet acknowledged at the end of the request. */
  unacknowledged: 'tcp.unacknowledged_bytes',
  /** Whether the request opened the connection (false: a reused one). */
  newConnection: 'tcp.connection.new',
  /** A reused connection's idle time before this request, seconds (from the end of its previous request). */
  idleBefore: 'tcp.connection.idle_before',
  /** diagnose()'s verdict, when the request failed or was slow. */
  verdict: 'tcp.verdict',
  /** diagnose()'s evidence in plain words, with the verdict. */
  evidence: 'tcp.verdict.evidence',
});

/** Options of the span hooks. */
export interface SpanFactsOptions {
  /** A request still unanswered this long gets diagnose()'s verdict read at that moment (default 1000 ms; 0 = never). */
  slowMs?: number;
}

/** What the hooks need of a span (the OTel API's Span). */
export interface AttributeSink {
  setAttribute(key: string, value: string | number | boolean): unknown;
}

const OFF_RTT = TCP_INFO_OFFSETS.rtt;
const OFF_RTTVAR = TCP_INFO_OFFSETS.rttvar;
const OFF_TOTAL_RETRANS = TCP_INFO_OFFSETS.totalRetrans;
const OFF_BYTES_ACKED = TCP_INFO_OFFSETS.bytesAcked;
const OFF_BYTES_SENT = TCP_INFO_OFFSETS.bytesSent;
const OFF_BYTES_RETRANS = TCP_INFO_OFFSETS.bytesRetrans;

/** Each socket's last followed request: when it ended (performance.now()) and tcpi_total_retrans then. */
const last = new WeakMap<net.Socket, { end: number; retrans: number }>();
/** Sockets that carried a followed request. */
const seen = new WeakSet<net.Socket>();

/**
 * One cookie-checked tcp_info read per request end (the cheapest read that
 * has rtt, rttvar and the retransmits; an fd reused by another socket reads
 * nothing), decoded by the length the kernel returned.
 */
function readInfo(socket: net.Socket): Sample | null {
  const fd = fdOrNone(socket);
  // The cookie remembered at first sight costs no syscall; the batch read checks it in C++ anyway.
  const cookie = fd < 0 ? null : rememberedCookie(socket) ?? cookieOrNone(socket, fd);
  return cookie === null ? null : readOne(fd, cookie);
}
const u32 = (s: Sample | null, off: number): number => (s ? s.u32(off) : 0);
const u64 = (s: Sample | null, off: number): number => (s && off + 8 <= s.infoLength ? s.u64(off) : NaN);

/** Requests still waiting, swept by one timer for the slow verdict (no timer per request). */
const waiting = new Set<RequestFacts>();
let sweeper: ReturnType<typeof setInterval> | null = null;
let sweepEvery = 0;
function follow(f: RequestFacts, slowMs: number): void {
  waiting.add(f);
  if (sweeper && slowMs / 4 >= sweepEvery) return;
  if (sweeper) clearInterval(sweeper);
  sweepEvery = Math.max(10, slowMs / 4);
  sweeper = setInterval(sweep, sweepEvery);
  sweeper.unref();
}
function sweep(): void {
  const now = performance.now();
  for (const f of waiting) f.check(now);
  if (waiting.size === 0 && sweeper) { clearInterval(sweeper); sweeper = null; }
}

/** Validates the options; returns slowMs. */
export function slowMsOption(options: SpanFactsOptions | undefined): number {
  if (options !== undefined && (options === null || typeof options !== 'object')) throw invalidArgType('options', 'an object', options);
  const slowMs = options?.slowMs ?? 1000;
  if (typeof slowMs !== 'number' || !Number.isFinite(slowMs) || slowMs < 0 || slowMs > 2_147_483_647) {
    throw outOfRange('options.slowMs', 'a number of ms >= 0 and <= 2147483647', slowMs);
  }
  return slowMs;
}

/** One request, from its start to its end. */
export class RequestFacts {
  private socket: net.Socket | null = null;
  private retransAtStart = 0;
  private readonly startedAt = performance.now();
  private readonly slowAt: number;
  private verdict: { verdict: string; evidence: string } | null = null;
  private ended = false;

  /**
   * `source`: an object whose `socket` is the request's socket once known
   * (an http request), read by the slow check before attach() was called.
   */
  constructor(private readonly span: AttributeSink, slowMs: number, private readonly source?: { readonly socket?: unknown }) {
    this.slowAt = slowMs > 0 ? this.startedAt + slowMs : Infinity;
    if (slowMs > 0) follow(this, slowMs);
  }

  /** @internal The sweep: past `slowMs` and still waiting, diagnose() now (once). */
  check(now: number): void {
    if (now < this.slowAt) return;
    waiting.delete(this);
    if (!this.ended) this.diagnoseNow();
  }

  /**
   * The request's socket is known (at any time before end(): the facts are
   * of the request's start). `isNew`: whether the request opened it
   * (undefined: decided from whether a followed request used it before).
   */
  attach(socket: unknown, isNew?: boolean): void {
    if (this.socket || this.ended || !(socket instanceof net.Socket)) return;
    this.socket = socket;
    const now = this.startedAt;
    const fresh = isNew ?? !seen.has(socket);
    seen.add(socket);
    const span = this.span;
    span.setAttribute(SPAN_ATTRIBUTES.newConnection, fresh);
    const previous = last.get(socket);
    if (!fresh && previous !== undefined) span.setAttribute(SPAN_ATTRIBUTES.idleBefore, Math.max(0, now - previous.end) / 1000);
    // A new connection's retransmits (its SYN's too) all belong to this request; a reused one's count from
    // the end of its previous followed request (read then), else from here.
    if (!fresh) this.retransAtStart = previous ? previous.retrans : u32(readInfo(socket), OFF_TOTAL_RETRANS);
  }

  /**
   * The request ended (answered, or failed with `error`): the end facts, and
   * the verdict when slow or failed. `peer`: also set network.peer.* (the
   * http instrumentation sets them itself).
   */
  end(error?: unknown, peer = true): void {
    if (this.ended) return;
    this.ended = true;
    waiting.delete(this);
    const socket = this.socket;
    if (error !== undefined && error !== null && !this.verdict) this.diagnoseNow();
    const span = this.span;
    if (this.verdict) {
      span.setAttribute(SPAN_ATTRIBUTES.verdict, this.verdict.verdict);
      span.setAttribute(SPAN_ATTRIBUTES.evidence, this.verdict.evidence);
    }
    if (!socket) return;
    const address = peer ? socket.remoteAddress : undefined;
    if (address !== undefined) {
      span.setAttribute(SPAN_ATTRIBUTES.peerAddress, address);
      if (socket.remotePort !== undefined) span.setAttribute(SPAN_ATTRIBUTES.peerPort, socket.remotePort);
      span.setAttribute(SPAN_ATTRIBUTES.transport, 'tcp');
    }
    const reading = readInfo(socket); // valid until the next read
    if (!reading) return;
    const retrans = u32(reading, OFF_TOTAL_RETRANS);
    last.set(socket, { end: performance.now(), retrans });
    span.setAttribute(SPAN_ATTRIBUTES.rtt, u32(reading, OFF_RTT) / 1e6);
    span.setAttribute(SPAN_ATTRIBUTES.rttVariance, u32(reading, OFF_RTTVAR) / 1e6);
    span.setAttribute(SPAN_ATTRIBUTES.retransmits, Math.max(0, retrans - this.retransAtStart));
    // Sent and not acknowledged: unique bytes sent (tcpi_bytes_sent - tcpi_bytes_retrans, Linux >= 4.19)
    // minus those acknowledged (tcpi_bytes_acked, which counts the SYN's sequence number too).
    const unacked = u64(reading, OFF_BYTES_SENT) - u64(reading, OFF_BYTES_RETRANS) - (u64(reading, OFF_BYTES_ACKED) - 1);
    if (Number.isFinite(unacked)) span.setAttribute(SPAN_ATTRIBUTES.unacknowledged, Math.max(0, unacked));
  }

  /** diagnose() of the socket now (slow: while the request waits; failed: at the failure). */
  private diagnoseNow(): void {
    const candidate = this.socket ?? this.source?.socket;
    const socket = candidate instanceof net.Socket ? candidate : null;
    if (!socket) {
      this.verdict = { verdict: 'no-connection', evidence: 'the request had no connection yet (still connecting or queued)' };
      return;
    }
    try {
      const d = diagnose(socket);
      this.verdict = { verdict: d.verdict, evidence: d.evidence };
    } catch {
      this.verdict = { verdict: 'closed', evidence: 'the connection is closed (no descriptor to read)' };
    }
  }
}
