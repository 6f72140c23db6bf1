'use strict';
// Network namespaces for benchmarks that make a peer vanish (root; ip + nft):
// the package's own NetnsPair (lib/cli/netns.ts, compiled to dist/), with the
// child processes' output shown. No jest, no test helpers.
const { NetnsPair, namespacesUnavailableReason, DEFAULT_ADDR_A, DEFAULT_ADDR_B } = require('../dist/cli/netns');

class Pair extends NetnsPair {
  constructor() { super({ prefix: 'tvb' }); }

  /** `node script ...args` inside `ns`, with an IPC channel and inherited output. */
  spawnNode(ns, script, args = []) {
    return super.spawnNode(ns, script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }
}

/** The next IPC message from `child` matching `pred`, or null after `ms`. */
function nextMessage(child, pred, ms) {
  return new Promise((resolve) => {
    const done = (v) => { clearTimeout(t); child.off('message', on); child.off('exit', onExit); resolve(v); };
    const on = (m) => { if (pred(m)) done(m); };
    const onExit = () => done(null);
    const t = setTimeout(() => done(null), ms);
    child.on('message', on);
    child.on('exit', onExit);
  });
}

module.exports = {
  ADDR_A: DEFAULT_ADDR_A, ADDR_B: DEFAULT_ADDR_B, Pair, unavailableReason: namespacesUnavailableReason, nextMessage,
};
