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

const FACTS = Symbol('tcp-vitals.span-facts');
type Followed = { [FACTS]?: RequestFacts };

function isClientRequest(r: object): r is ClientRequest {
  return typeof (r as ClientRequest).setHeader === 'function' && typeof (r as ClientRequest).getHeader === 'function';
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
      const facts = new RequestFacts(span, slowMs);
      (request as Followed)[FACTS] = facts;
      if (isClientRequest(request)) {
        const started = (socket: unknown): void => facts.attach(socket, !(request as ClientRequest & { reusedSocket?: boolean }).reusedSocket);
        if (request.socket) started(request.socket);
        else request.once('socket', started);
        // errorMonitor listeners run before 'error' ones and before the instrumentation's own (added after this hook).
        request.once(errorMonitor, (err: unknown) => facts.end(err ?? new Error('request failed')));
      } else {
        facts.attach(request.socket);
        request.once('aborted', () => facts.end(new Error('aborted')));
      }
      userRequestHook?.(span, request);
    },
    applyCustomAttributesOnSpan(span, request, response) {
      (request as Followed)[FACTS]?.end();
      userApply?.(span, request, response);
    },
  };
}
