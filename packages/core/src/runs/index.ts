export * from './model.js';
export * from './retry.js';
export * from './transitions.js';
