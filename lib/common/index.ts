/** Bottom layer: Node-shaped errors and argument validators. Imports nothing of the package. */
export * from './errors';
export * from './validate';
export * from './text';
