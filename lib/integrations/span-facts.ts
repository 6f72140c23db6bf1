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
import { diagnose } from '../policy/diagnose';
import { fdOrNone } from '../kernel/fd';
import { TCP_INFO_OFFSETS } from '../kernel/tcpinfo';
import { readOne } from '../runtime/record';
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

/** End of each socket's last followed request (performance.now()): a reused socket's idle time. */
const lastEnd = new WeakMap<net.Socket, number>();
/** Sockets that carried a followed request. */
const seen = new WeakSet<net.Socket>();

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
  private timer: ReturnType<typeof setTimeout> | null = null;
  private verdict: { verdict: string; evidence: string } | null = null;
  private ended = false;

  constructor(private readonly span: AttributeSink, slowMs: number) {
    if (slowMs > 0) {
      this.timer = setTimeout(() => { this.timer = null; this.diagnoseNow(); }, slowMs);
      this.timer.unref();
    }
  }

  /**
   * The request's socket is known. `isNew`: whether the request opened it
   * (undefined: decided from whether a followed request used it before).
   */
  attach(socket: unknown, isNew?: boolean): void {
    if (this.socket || this.ended || !(socket instanceof net.Socket)) return;
    this.socket = socket;
    const now = performance.now();
    const fresh = isNew ?? !seen.has(socket);
    seen.add(socket);
    const span = this.span;
    span.setAttribute(SPAN_ATTRIBUTES.newConnection, fresh);
    const previous = lastEnd.get(socket);
    if (!fresh && previous !== undefined) span.setAttribute(SPAN_ATTRIBUTES.idleBefore, Math.max(0, now - previous) / 1000);
    // A new connection's retransmits (its SYN's too) all belong to this request; a reused one's are counted from here.
    if (!fresh) {
      const fd = fdOrNone(socket);
      const s = fd >= 0 ? readOne(fd) : null;
      if (s) this.retransAtStart = s.u32(OFF_TOTAL_RETRANS);
    }
  }

  /** The request ended (answered, or failed with `error`): the end facts, and the verdict when slow or failed. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    const socket = this.socket;
    if (error !== undefined && error !== null && !this.verdict) this.diagnoseNow();
    const span = this.span;
    if (this.verdict) {
      span.setAttribute(SPAN_ATTRIBUTES.verdict, this.verdict.verdict);
      span.setAttribute(SPAN_ATTRIBUTES.evidence, this.verdict.evidence);
    }
    if (!socket) return;
    lastEnd.set(socket, performance.now());
    const address = socket.remoteAddress;
    if (address !== undefined) {
      span.setAttribute(SPAN_ATTRIBUTES.peerAddress, address);
      if (socket.remotePort !== undefined) span.setAttribute(SPAN_ATTRIBUTES.peerPort, socket.remotePort);
      span.setAttribute(SPAN_ATTRIBUTES.transport, 'tcp');
    }
    const fd = fdOrNone(socket);
    const s = fd >= 0 ? readOne(fd) : null;
    if (!s) return;
    span.setAttribute(SPAN_ATTRIBUTES.rtt, s.u32(OFF_RTT) / 1e6);
    span.setAttribute(SPAN_ATTRIBUTES.rttVariance, s.u32(OFF_RTTVAR) / 1e6);
    span.setAttribute(SPAN_ATTRIBUTES.retransmits, Math.max(0, s.u32(OFF_TOTAL_RETRANS) - this.retransAtStart));
    span.setAttribute(SPAN_ATTRIBUTES.unacknowledged, Math.max(0, s.sendQueue - s.unsent));
  }

  /** diagnose() of the socket now (slow: while the request waits; failed: at the failure). */
  private diagnoseNow(): void {
    const socket = this.socket;
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
