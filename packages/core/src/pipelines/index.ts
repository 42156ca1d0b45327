export * from './spec.js';
export * from './validation.js';
export * from './health.js';
export * from './backoff.js';
export * from './instance.js';
export * from './rolling.js';
export * from './reconcile.js';
export * from './servable.js';
