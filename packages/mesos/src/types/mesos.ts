/**
 * Types for the messages of mesos.proto (package `mesos.v1`) that the scheduler and executor APIs
 * carry, written from shared/docs/mesos-v1-api.md and the .proto sources. Exact snake_case field
 * names; ids are `{value: string}` objects; enums are string-literal unions (./enums.ts).
 */
export type * from './mesos/common.js';
export type * from './mesos/resources.js';
export type * from './mesos/containers.js';
export type * from './mesos/tasks.js';
export type * from './mesos/status.js';
export type * from './mesos/offers.js';
export type * from './mesos/framework.js';
