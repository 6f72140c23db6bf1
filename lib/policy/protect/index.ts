/** protect(): process-wide protection of every TCP connection (see docs/api-protect.md). */
export { protect } from './controller';
export type { ProtectHandle } from './controller';
export {
  DEFAULT_PROTECT_TIMEOUT_MS, EnvConfigError, kernelOptionsFor, optionsFromEnv, parseDuration, pollIntervalFor, resolveOptions,
} from './config';
export type { MatchResult, ProtectConfig, ProtectOptions } from './config';
export type { ConnectionInfo } from './rules';
export { RuleList, parseRule, splitList } from './rules';
export type { ScopeOptions } from './scope';
export type { ProtectStats } from './stats';
