/**
 * The state that must be one per process however many copies of the package
 * are loaded (an app's own tcp-vitals next to the one NODE_OPTIONS=--require
 * preloads): the registry of connections, the AsyncLocalStorage of
 * protect.scope(), and the death channel. It lives under a `Symbol.for` key
 * on globalThis; the first copy loaded creates it, every later copy of the
 * same layout ({@link SHARED_VERSION}) uses it.
 *
 * A copy whose layout differs (another SHARED_VERSION) cannot safely use
 * the other's objects: it keeps its own registry and scope storage, and emits
 * one process warning (code TCP_VITALS_SHARED_STATE) saying so. Then that
 * copy's collectors count only its own connections, and a scope() of one copy
 * does not reach the other's protect(). Deaths still meet: the diagnostics
 * channel is Node's, looked up by name.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Channel, channel } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/** Layout version of {@link SharedState}; bump it when the shape of any member changes. */
export const SHARED_VERSION = 2;

const KEY = Symbol.for('tcp-vitals.shared-state');

/** Name of the diagnostics channel every detected death is published on. */
export const DEATH_CHANNEL = 'tcp-vitals:death';

/** The per-process state (layout {@link SHARED_VERSION}). */
export interface SharedState {
  readonly version: typeof SHARED_VERSION;
  /** Registered connections and their metadata (runtime/connections). */
  readonly connections: Map<Socket, unknown>;
  /** Producers whose own tables the registry iterates with the map (runtime/connections ConnectionSource; layout 2). */
  readonly sources: unknown[];
  /** protect.scope()'s storage: `{ timeout }` of the innermost scope. */
  readonly scopes: AsyncLocalStorage<{ readonly timeout: number }>;
  /** The diagnostics channel of {@link DEATH_CHANNEL}. */
  readonly deathChannel: Channel;
}

function create(): SharedState {
  return { version: SHARED_VERSION, connections: new Map(), sources: [], scopes: new AsyncLocalStorage(), deathChannel: channel(DEATH_CHANNEL) };
}

function resolve(): SharedState {
  const g = globalThis as unknown as Record<symbol, { version?: unknown } | undefined>;
  const found = g[KEY];
  if (found === undefined) {
    const s = create();
    Object.defineProperty(g, KEY, { value: s, enumerable: false });
    return s;
  }
  if (found !== null && typeof found === 'object' && found.version === SHARED_VERSION) return found as SharedState;
  process.emitWarning(`tcp-vitals: another loaded copy of tcp-vitals keeps its process-wide state in layout `
    + `${String(found?.version)}, this copy in layout ${SHARED_VERSION}: this copy keeps its own registry and scopes `
    + '(its metrics do not count the other copy\'s connections, and scopes do not cross); install one version to share them',
  { code: 'TCP_VITALS_SHARED_STATE' });
  return create();
}

/** This process's shared state (resolved once, when this copy loads). */
export const shared: SharedState = resolve();
