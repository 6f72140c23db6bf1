/**
 * model/traps RULES: the per-socket keepalive rules shared by `inspect`
 * (trapsOf) and the misconfiguration warnings (policy/alarms). Pure logic.
 */
import { kernelSettings } from '../lib/kernel/sysctl';
import { RULES, socketModel } from '../lib/model/traps';

describe('keepalive rules (one place for inspect and the warnings)', () => {
  test('user timeout below the keepalive idle: a rule, and a trap inspect lists', () => {
    const o = { keepAlive: true, keepAliveIdle: 5000, keepAliveInterval: 1000, keepAliveCount: 10, userTimeout: 1000 };
    expect(RULES.userTimeoutBelowKeepAlive(o)).toBe(true);
    const { traps } = socketModel(kernelSettings(), o);
    const t = traps.find((x) => x.code === 'user-timeout-below-keepalive');
    expect(t?.message).toMatch(/TCP_USER_TIMEOUT 1\.00 s is shorter than TCP_KEEPIDLE 5\.00 s.*TCP_KEEPCNT 10 is ignored/);
  });
  test('the boundaries: equal, off, or no user timeout is no finding', () => {
    expect(RULES.userTimeoutBelowKeepAlive({ keepAlive: true, keepAliveIdle: 5000, userTimeout: 5000 })).toBe(false);
    expect(RULES.userTimeoutBelowKeepAlive({ keepAlive: false, keepAliveIdle: 5000, userTimeout: 1000 })).toBe(false);
    expect(RULES.userTimeoutBelowKeepAlive({ keepAlive: true, keepAliveIdle: 5000, userTimeout: 0 })).toBe(false);
    expect(RULES.keepAliveWithoutDelay({ keepAlive: true, keepAliveIdle: 3_599_999 })).toBe(false);
    expect(RULES.keepAliveWithoutDelay({ keepAlive: true, keepAliveIdle: 3_600_000 })).toBe(true);
    expect(RULES.keepAliveProbesZero({ keepAlive: true, keepAliveCount: 0 })).toBe(true);
    expect(RULES.keepAliveProbesZero({ keepAlive: false, keepAliveCount: 0 })).toBe(false);
  });
});
