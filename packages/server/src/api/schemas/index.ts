/**
 * `@galley/server/api`: the API's wire shapes, as TypeBox schemas and their static types. The
 * server validates and documents with them (fastify, OpenAPI); the web UI and the CLI import the
 * types from here instead of writing them again. This module imports nothing but TypeBox, so a
 * client can import it without any server code.
 */
export * from './common.js';
export * from './definitions.js';
export * from './placement.js';
export * from './runs.js';
export * from './pipeline-spec.js';
export * from './pipelines.js';
export * from './schedules.js';
export * from './autoscaling.js';
export * from './queues.js';
