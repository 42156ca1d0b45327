/**
 * @galley/mesos/extras: features built on the SDK's public API (this package's main entry and
 * nothing deeper), which a framework may use or leave. Galley's own server uses none of them.
 *
 * - The declarative task manager (./tasks/): "keep these tasks running", what mesos-framework's
 *   `tasks` option was: specs, instances with serials, offer rounds, restarts with backoff,
 *   scaling, adoption of unknown tasks, health polling.
 */
export * from './tasks/index.js';
