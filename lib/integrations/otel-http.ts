/**
 * TCP facts on the HTTP spans of @opentelemetry/instrumentation-http, as its
 * own hooks (no span processor needed: its `applyCustomAttributesOnSpan`
 * runs right before it ends a span, on both sides):
 *
 *   const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
 *   const { httpSpanHooks } = require('tcp-vitals/otel');
 *   new HttpInstrumentation({ ...httpSpanHooks({ slowMs: 1000 }) });
 *
 * Server spans: the request's connection (the accepted socket). Client spans:
 * the socket the agent gives the request (`req.reusedSocket` tells a reused
 * one). Attributes: see {@link SPAN_ATTRIBUTES}. This module never loads
 * @opentelemetry/api: it only calls setAttribute on the spans it is given.
 */
import { errorMonitor } from 'node:events';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { AttributeSink, RequestFacts, slowMsOption, SpanFactsOptions } from './span-facts';

/** The hooks, to spread into HttpInstrumentation's config. */
export interface HttpSpanHooks {
  requestHook(span: AttributeSink, request: ClientRequest | IncomingMessage): void;
  applyCustomAttributesOnSpan(span: AttributeSink, request: ClientRequest | IncomingMessage, response: IncomingMessage | ServerResponse): void;
}

/** Options of {@link httpSpanHooks}; the hooks you had, to keep calling them. */
export interface HttpSpanHooksOptions extends SpanFactsOptions {
  /** Your own requestHook, called after ours. */
  requestHook?: HttpSpanHooks['requestHook'];
  /** Your own applyCustomAttributesOnSpan, called after ours. */
  applyCustomAttributesOnSpan?: HttpSpanHooks['applyCustomAttributesOnSpan'];
}

/** The facts of each followed request (a WeakMap: a property on Node's request objects would change their shape). */
const followed = new WeakMap<object, RequestFacts>();

function isClientRequest(r: object): r is ClientRequest {
  return typeof (r as ClientRequest).setHeader === 'function' && typeof (r as ClientRequest).getHeader === 'function';
}

/** Tells the facts the request's socket: the client's (with `reusedSocket`) or the server's. */
function attachSocket(facts: RequestFacts, request: ClientRequest | IncomingMessage): void {
  if (isClientRequest(request)) facts.attach(request.socket, !(request as ClientRequest & { reusedSocket?: boolean }).reusedSocket);
  else facts.attach(request.socket);
}

function onClientError(this: ClientRequest, err: unknown): void {
  const facts = followed.get(this);
  if (!facts) return;
  attachSocket(facts, this);
  facts.end(err ?? new Error('request failed'), false);
}

function onServerAborted(this: IncomingMessage): void {
  const facts = followed.get(this);
  if (!facts) return;
  attachSocket(facts, this);
  facts.end(new Error('aborted'), false);
}

/**
 * The hooks for `new HttpInstrumentation({ ...httpSpanHooks() })`: they put
 * the connection's rtt, rtt variance, retransmits during the request,
 * unacknowledged bytes at the end, whether the connection was new and a
 * reused one's idle time on every server and client span, and diagnose()'s
 * verdict on a request that failed or was unanswered after `slowMs`.
 */
export function httpSpanHooks(options?: HttpSpanHooksOptions): HttpSpanHooks {
  const slowMs = slowMsOption(options);
  const userRequestHook = options?.requestHook;
  const userApply = options?.applyCustomAttributesOnSpan;
  return {
    requestHook(span, request) {
      followed.set(request, new RequestFacts(span, slowMs, request));
      // Shared listeners (no closure per request); errorMonitor runs before 'error' listeners and before
      // the instrumentation's own (added after this hook).
      if (isClientRequest(request)) request.on(errorMonitor, onClientError);
      else request.on('aborted', onServerAborted);
      userRequestHook?.(span, request);
    },
    applyCustomAttributesOnSpan(span, request, response) {
      const facts = followed.get(request);
      if (facts) {
        attachSocket(facts, request);
        facts.end(undefined, false);
      }
      userApply?.(span, request, response);
    },
  };
}
