/** Runtime layer: the one scheduler (poller) that every watcher shares. */
export * from './scheduler';
export * from './connections';
