/**
 * Which connections protect() covers: `include` / `exclude` lists of `host`,
 * `host:port`, `:port`, an IP address, or an IPv4/IPv6 CIDR (`10.0.0.0/8`,
 * `fd00::/8`, `[::1]:5432`).
 */
import { BlockList, isIP } from 'node:net';

/** What rules (and `match`) see of one connection. */
export interface ConnectionInfo {
  /** 'outbound' for connect(), 'inbound' for an accepted socket. */
  readonly direction: 'outbound' | 'inbound';
  /** The host as the application named it (the address when it gave one). */
  readonly host: string;
  /** Peer port. */
  readonly port: number;
  /** Peer IP address. */
  readonly address: string;
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** Local port (0 when the kernel has not bound one yet). */
  readonly localPort: number;
}

interface Rule {
  /** Lower-cased host name, or null when the rule is an address/CIDR or port only. */
  host: string | null;
  /** Port, or 0 for any. */
  port: number;
  /** Address/CIDR list, or null. */
  net: BlockList | null;
}

/** Parses one rule; returns an error message instead of throwing. */
export function parseRule(text: string): Rule | string {
  const t = text.trim();
  if (t === '') return 'an empty rule';
  let hostPart = t;
  let port = 0;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracket) {
    hostPart = bracket[1];
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (/^:\d+$/.test(t)) {
    hostPart = '';
    port = Number(t.slice(1));
  } else if (isIP(t) === 6 || /^[0-9a-fA-F:]+\/\d+$/.test(t)) {
    hostPart = t; // IPv6 address or CIDR: its colons are not a port separator
  } else {
    const colon = t.lastIndexOf(':');
    if (colon >= 0) {
      if (!/^\d+$/.test(t.slice(colon + 1))) return `'${t}' has a port that is not a number`;
      hostPart = t.slice(0, colon);
      port = Number(t.slice(colon + 1));
    }
  }
  if (port !== 0 && !(Number.isInteger(port) && port >= 1 && port <= 65535)) return `'${t}' has a port outside 1..65535`;
  if (hostPart === '') return port ? { host: null, port, net: null } : `'${t}' names neither a host nor a port`;
  const slash = hostPart.indexOf('/');
  const addr = slash >= 0 ? hostPart.slice(0, slash) : hostPart;
  const family = isIP(addr);
  if (family) {
    const prefix = slash >= 0 ? hostPart.slice(slash + 1) : String(family === 4 ? 32 : 128);
    const bits = Number(prefix);
    if (!/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128)) return `'${t}' has a bad CIDR prefix`;
    const list = new BlockList();
    list.addSubnet(addr, bits, family === 4 ? 'ipv4' : 'ipv6');
    return { host: null, port, net: list };
  }
  if (slash >= 0) return `'${t}' is not a valid CIDR`;
  if (!/^[A-Za-z0-9_.-]+$/.test(hostPart)) return `'${t}' is not a host name, address or CIDR`;
  return { host: hostPart.toLowerCase(), port, net: null };
}

function ruleMatches(r: Rule, c: ConnectionInfo): boolean {
  if (r.port !== 0 && r.port !== c.port) return false;
  if (r.host !== null) return r.host === c.host.toLowerCase() || r.host === c.address.toLowerCase();
  if (r.net !== null) {
    if (!c.address || !isIP(c.address)) return false;
    return r.net.check(c.address, c.family === 6 ? 'ipv6' : 'ipv4');
  }
  return true;
}

/** A compiled list of rules. */
export class RuleList {
  private constructor(private readonly rules: readonly Rule[], readonly source: readonly string[]) {}

  /** Compiles `texts`; throws an Error whose message names the first bad rule. */
  static compile(texts: readonly string[]): RuleList {
    const rules: Rule[] = [];
    for (const text of texts) {
      const r = parseRule(text);
      if (typeof r === 'string') throw new Error(r);
      rules.push(r);
    }
    return new RuleList(rules, [...texts]);
  }

  get size(): number { return this.rules.length; }

  /** Whether any rule matches `c`. */
  matches(c: ConnectionInfo): boolean {
    for (const r of this.rules) if (ruleMatches(r, c)) return true;
    return false;
  }
}

/** Splits a comma-separated environment value into rules (empty entries ignored). */
export function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
