/**
 * @galley/core: pure scheduling decisions (see the package README for the contract).
 */
export * from './errors.js';
export * from './backoff.js';
export * from './heap.js';
export * from './runs/index.js';
export * from './placement/index.js';
export * from './pipelines/index.js';
export * from './queues/index.js';
export * from './schedules/index.js';
export * from './scaling/index.js';
