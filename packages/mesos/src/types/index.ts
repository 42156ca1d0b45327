/** All Mesos v1 wire types: mesos.proto messages, the scheduler API and the executor API. */
export * from './enums.js';
export type * from './mesos.js';
export * from './scheduler.js';
export * from './executor.js';
