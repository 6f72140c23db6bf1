/** Runtime layer: the one scheduler (poller) that every watcher shares. */
export * from './scheduler';
export * from './connections';
export * from './socket-hooks';
export * from './accounting';
export * from './emitter';
export * from './signal';
export * from './state-pool';
