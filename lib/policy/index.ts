/** Policy layer: what to do with a socket (failFast, watch, delivery, close, server, snapshot, deadlines for a socket). */
export * from './deadlines';
export * from './failfast';
export * from './watch';
export * from './delivery';
export * from './close';
export * from './server';
export * from './snapshot';
export * from './diagnose';
export * from './inspect';
