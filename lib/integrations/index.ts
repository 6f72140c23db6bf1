/** Integrations: http/https agents and the undici connector. */
export * from './agent';
