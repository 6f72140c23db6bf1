'use strict';
/**
 * Prometheus metrics for a few long-lived TCP connections (a database pool, a
 * message broker, an upstream), with prom-client and tcp-vitals' snapshot().
 *
 *   const registry = new Registry();
 *   const tracked = trackConnections(registry);
 *   tracked.set('postgres-0', pgClient.connection.stream);
 *   // ... serve registry.metrics() on /metrics
 *
 * Every scrape reads each tracked socket once (tcp_info + queue sizes, a few
 * µs each) and fills one series per metric and connection, labelled
 * `connection`. Names ending in _total are exposed as counters, the rest as
 * gauges; units are in the names (seconds, bytes, segments). Closed sockets
 * are dropped from the map at the next scrape.
 *
 * Keep the label set small: one series per connection and metric. For
 * thousands of short-lived connections, aggregate instead (e.g. a histogram
 * of tcp_rtt_seconds) or use watch() events.
 *
 * Run it: node examples/prom-client.js (prints a scrape of a loopback connection).
 */
const net = require('node:net');
const { Counter, Gauge, Registry } = require('prom-client');
// In your application: require('tcp-vitals'). Here: this repository.
const { snapshot, SNAPSHOT_METRICS } = require('..');

/**
 * Registers the snapshot() metrics on `registry` and returns the Map of
 * tracked sockets (label -> net.Socket) that feeds them.
 */
function trackConnections(registry, { labelName = 'connection' } = {}) {
  const sockets = new Map();
  // One snapshot per socket per scrape, shared by all metrics of that scrape:
  // prom-client collects every metric within one turn of the event loop.
  let current = null;
  const readAll = () => {
    if (!current) {
      current = new Map();
      for (const [label, socket] of sockets) {
        if (socket.destroyed) { sockets.delete(label); continue; }
        try {
          current.set(label, snapshot(socket));
        } catch {
          // not connected (yet / any more): no series this time
        }
      }
      setImmediate(() => { current = null; });
    }
    return current;
  };
  for (const [name, help] of Object.entries(SNAPSHOT_METRICS)) {
    const isCounter = name.endsWith('_total');
    const Metric = isCounter ? Counter : Gauge;
    new Metric({
      name,
      help,
      labelNames: [labelName],
      registers: [registry],
      collect() {
        this.reset();
        for (const [label, snap] of readAll()) {
          const value = snap[name];
          if (value === undefined) continue; // not in this kernel's tcp_info
          if (isCounter) this.inc({ [labelName]: label }, value);
          else this.set({ [labelName]: label }, value);
        }
      },
    });
  }
  return sockets;
}

module.exports = { trackConnections };

if (require.main === module) {
  const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
    const client = net.connect(server.address().port, '127.0.0.1', async () => {
      const registry = new Registry();
      trackConnections(registry).set('loopback', client);
      client.write(Buffer.alloc(100_000));
      await new Promise((r) => setTimeout(r, 100));
      process.stdout.write(await registry.metrics());
      client.destroy();
      server.close();
    });
  });
}
