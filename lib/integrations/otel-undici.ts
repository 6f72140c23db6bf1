/**
 * TCP facts on the spans of undici and Node's global fetch, through undici's
 * diagnostics channels (`undici:request:create`, `undici:client:sendHeaders`,
 * `undici:request:trailers`, `undici:request:error`): no patching, and both
 * the undici package and the copy inside Node publish on them.
 *
 *   const { undiciSpanFacts } = require('tcp-vitals/otel');
 *   const facts = undiciSpanFacts();          // facts.stop() to end it
 *   await tracer.startActiveSpan('GET upstream', async (span) => { await fetch(url); span.end(); });
 *
 * The span is, by default, the one active (@opentelemetry/api's context)
 * when the request is created: the caller's span around fetch(). Pass
 * `spanOf(request)` to choose another (e.g. one kept by your own undici
 * instrumentation). Attributes: as the http hooks (SPAN_ATTRIBUTES).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { invalidArgType } from '../common/errors';
import { AttributeSink, RequestFacts, slowMsOption, SpanFactsOptions } from './span-facts';

/** Options of {@link undiciSpanFacts}. */
export interface UndiciSpanFactsOptions extends SpanFactsOptions {
  /** The span of an undici request object (default: the active span at `undici:request:create`). */
  spanOf?: (request: object) => AttributeSink | undefined;
}

/** Handle returned by {@link undiciSpanFacts}. */
export interface UndiciSpanFacts {
  /** Unsubscribes from the channels (idempotent). */
  stop(): void;
}

/** The active span, via @opentelemetry/api (an optional peer dependency, loaded here only). */
function activeSpanLoader(): (request: object) => AttributeSink | undefined {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  return () => {
    const span = api.trace.getActiveSpan();
    return span && span.isRecording() ? span : undefined;
  };
}

/** Follows every undici/fetch request of the process and puts its TCP facts on its span. */
export function undiciSpanFacts(options?: UndiciSpanFactsOptions): UndiciSpanFacts {
  const slowMs = slowMsOption(options);
  if (options?.spanOf !== undefined && typeof options.spanOf !== 'function') throw invalidArgType('options.spanOf', 'a function', options.spanOf);
  const spanOf = options?.spanOf ?? activeSpanLoader();
  const followed = new WeakMap<object, RequestFacts>();
  const onCreate = (m: unknown): void => {
    const request = (m as { request?: object } | null)?.request;
    if (!request || typeof request !== 'object') return;
    const span = spanOf(request);
    if (span) followed.set(request, new RequestFacts(span, slowMs));
  };
  const onSendHeaders = (m: unknown): void => {
    const { request, socket } = (m ?? {}) as { request?: object; socket?: unknown };
    if (request) followed.get(request)?.attach(socket);
  };
  const onEnd = (m: unknown): void => {
    const request = (m as { request?: object } | null)?.request;
    if (!request) return;
    followed.get(request)?.end();
    followed.delete(request);
  };
  const onError = (m: unknown): void => {
    const { request, error } = (m ?? {}) as { request?: object; error?: unknown };
    if (!request) return;
    followed.get(request)?.end(error ?? new Error('request failed'));
    followed.delete(request);
  };
  const subs: Array<[string, (m: unknown) => void]> = [
    ['undici:request:create', onCreate], ['undici:client:sendHeaders', onSendHeaders],
    ['undici:request:trailers', onEnd], ['undici:request:error', onError],
  ];
  for (const [name, fn] of subs) subscribe(name, fn);
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      for (const [name, fn] of subs) unsubscribe(name, fn);
    },
  };
}
