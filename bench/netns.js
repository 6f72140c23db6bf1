'use strict';
// Two network namespaces joined by a veth cable, for benchmarks that make a
// peer vanish (root; ip + nft). Self-contained: no jest, no test helpers.
// Every namespace is deleted by destroy(), and on exit as a last resort.
const { execFileSync, spawn } = require('node:child_process');

const ADDR_A = '10.213.8.1';
const ADDR_B = '10.213.8.2';
const live = new Set();
let counter = 0;

const sh = (cmd, args, input) =>
  execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });

/** Why namespaces cannot be used here, or null. */
function unavailableReason() {
  if (process.getuid?.() !== 0) return 'needs root (CAP_NET_ADMIN for ip netns / nft)';
  for (const bin of ['ip', 'nft']) {
    try { sh('sh', ['-c', `command -v ${bin}`]); } catch { return `${bin} is not installed`; }
  }
  return null;
}

function removeNamespace(ns) {
  try {
    for (const pid of sh('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
  } catch { /* gone */ }
  try { sh('ip', ['netns', 'del', ns]); } catch { /* gone */ }
  live.delete(ns);
}
process.on('exit', () => { for (const ns of [...live]) removeNamespace(ns); });

class Pair {
  constructor() {
    const id = `${process.pid % 100000}-${counter++}`;
    this.a = `tvb-${id}-a`;
    this.b = `tvb-${id}-b`;
    this.children = [];
    const va = `tvb${process.pid % 100000}x${counter}a`, vb = `tvb${process.pid % 100000}x${counter}b`;
    try {
      for (const ns of [this.a, this.b]) { sh('ip', ['netns', 'add', ns]); live.add(ns); }
      sh('ip', ['link', 'add', va, 'netns', this.a, 'type', 'veth', 'peer', 'name', vb, 'netns', this.b]);
      sh('ip', ['-n', this.a, 'addr', 'add', `${ADDR_A}/24`, 'dev', va]);
      sh('ip', ['-n', this.b, 'addr', 'add', `${ADDR_B}/24`, 'dev', vb]);
      for (const [ns, dev] of [[this.a, va], [this.b, vb]]) {
        sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      }
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  /** `node script ...args` inside `ns`, with an IPC channel. */
  spawnNode(ns, script, args = []) {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.children.push(child);
    return child;
  }

  /** B drops everything in and out: no RST, no ICMP. */
  vanish() {
    sh('ip', ['netns', 'exec', this.b, 'nft', '-f', '-'], [
      'table inet vanish {',
      '  chain in  { type filter hook input  priority 0; policy drop; }',
      '  chain out { type filter hook output priority 0; policy drop; }',
      '}', ''].join('\n'));
  }

  destroy() {
    for (const c of this.children) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
    removeNamespace(this.a);
    removeNamespace(this.b);
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

module.exports = { ADDR_A, ADDR_B, Pair, unavailableReason, nextMessage };
