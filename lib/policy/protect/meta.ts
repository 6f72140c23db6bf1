/**
 * protect()'s registry metadata (runtime/connections ConnectionMeta): shared
 * frozen objects, never one per connection.
 */
import type { ConnectionMeta } from '../../runtime/connections';

/**
 * Shared, frozen registry metadata: per (host, port) for outbound connections
 * (two Map lookups, no key string per connection); one object for every
 * inbound one (the collectors name an inbound peer by its address, read from
 * the socket only when they need it, and never by its ephemeral port).
 */
const metaCache = new Map<string, Map<number, ConnectionMeta>>();
let metaCount = 0;
/** The metadata of every inbound connection. */
export const INBOUND_META: ConnectionMeta = Object.freeze({ direction: 'inbound', source: 'protect' });
/** The metadata of an outbound connection to `host`:`port` (cached; the cache is cleared past 4,096 entries). */
export function outboundMeta(host: string, port: number): ConnectionMeta {
  let byPort = metaCache.get(host);
  let m = byPort?.get(port);
  if (!m) {
    if (metaCount >= 4096) { metaCache.clear(); metaCount = 0; byPort = undefined; }
    if (!byPort) { byPort = new Map(); metaCache.set(host, byPort); }
    m = Object.freeze({ direction: 'outbound' as const, source: 'protect' as const, host, port });
    byPort.set(port, m);
    metaCount++;
  }
  return m;
}
