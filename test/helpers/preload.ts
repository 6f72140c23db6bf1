/**
 * Children run under the process-wide preload: `node --require
 * <repo>/dist/register.js script.js`, configured by environment
 * (TCP_VITALS_TIMEOUT, TCP_VITALS_SERVERS, ...). The child's script holds no
 * tcp-vitals code; whatever protects it comes from the preload.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Child, NetPair } from './netns';

/** The built preload (`npx tsc -p tsconfig.json` makes it). */
export const REGISTER = join(__dirname, '..', '..', 'dist', 'register.js');

/** Why the preload cannot be used here, or null. */
export function registerUnavailableReason(): string | null {
  return existsSync(REGISTER) ? null : `${REGISTER} is missing (build with: npx tsc -p tsconfig.json)`;
}

/** Starts `node --require dist/register.js script args...` in `ns` (killed by the pair's destroy()). */
export function spawnPreloaded(pair: NetPair, ns: string, script: string, args: string[], env: NodeJS.ProcessEnv): Child {
  // NetPair.spawnNode runs `node <script> <args...>`: the node options go first.
  return pair.spawnNode(ns, '--require', [REGISTER, script, ...args], env);
}
