/**
 * @galley/mesos: a Mesos v1 HTTP scheduler and executor SDK. See README.md for the data flow.
 * The declarative task manager is in `@galley/mesos/extras` (./extras/); the fake master in
 * `@galley/mesos/testing` (./testing/).
 * Each line below exports one area; keep one area per block so several people can add to it.
 */

// Wire types (mesos.proto, scheduler and executor APIs).
export * from './types/index.js';

// Tolerant Mesos JSON.
export { decodeJson, decodeJsonBytes, encodeJson, JsonDecodeError } from './json/index.js';

// RecordIO framing.
export {
  RecordIODecoder,
  readRecords,
  encodeRecord,
  encodeRecords,
  RecordIOError,
  DEFAULT_MAX_RECORD_BYTES,
  type RecordIODecoderOptions,
  type RecordIOErrorCode,
} from './recordio/index.js';

// Offers and resources: arithmetic, fitting tasks, ACCEPT building, offer hygiene.
export * from './scheduler/offers/index.js';

// HTTP transport (status table, typed errors, redirects).
export * from './http/index.js';

// Master detection (static list, ZooKeeper, DNS).
export * from './master/index.js';

// Scheduler client: session, ordered queue, acknowledgements, reconciliation.
export * from './scheduler/index.js';

// Agent operator API: reading sandbox files (a task's stdout and stderr).
export * from './agent/index.js';

// Framework id persistence.
export * from './framework-id/index.js';

// Executor client and the galley-executor command executor.
export * from './executor/index.js';

// Master operator API: maintenance schedules, inverse-offer answers, machines down and up.
export * from './operator/index.js';
