/** Model layer: pure deadline math and byte accounting. No native import, no Node socket I/O. */
export * from './accounting';
export * from './budget';
export * from './compute';
export * from './death-window';
export * from './explain';
export * from './format';
export * from './give-up';
export * from './paths';
export * from './timer-slack';
export * from './failfast-settings';
export * from './diagnose';
export * from './traps';
export * from './reason';
export * from './watch-step';
export * from './death-step';
