/**
 * @galley/server: build a whole server from a config, and the contracts other packages build on
 * (the Store, the Backend, the API's JSON schemas). See the package README.
 */
export { buildServer, VERSION, type GalleyServer, type ServerSeams } from './app.js';
export { resolveConfig, ConfigError, type Config, type ConfigSources } from './config/config.js';
export { OPTIONS, type OptionSpec } from './config/options.js';
export type * from './store/store.js';
export type * from './model/records.js';
export { openStore, type StoreLocation } from './store/open.js';
export type * from './backends/backend.js';
export type * from './backends/group-runner.js';
export type * from './model/pipeline-records.js';
export { PipelineController, type PipelineControllerOptions } from './pipelines/controller.js';
export { RunController, type RunControllerOptions, type StopAnswer } from './runs/controller.js';
export { RunFeed } from './runs/feed.js';
export type { Leadership } from './control/leadership.js';
export { Definition, DefinitionCreate, DefinitionUpdate, DefinitionList } from './api/schemas/definitions.js';
export {
  Run,
  RunList,
  RunStatus,
  RunEvents,
  StopAnswer as StopAnswerSchema,
  LogsPage,
  ExecuteBody,
} from './api/schemas/runs.js';
export { ErrorBody } from './api/schemas/common.js';
export { PipelineJson, PipelineMap, PipelineUpdateJson, PingJson } from './api/schemas/pipelines.js';
