/** Clients of a Mesos agent's operator endpoints. */
export {
  AgentFilesClient,
  createAgentFilesClient,
  executorSandboxPath,
  DEFAULT_FILES_TIMEOUT_MS,
  type AgentFilesClientOptions,
  type FileChunk,
  type FilePage,
  type FileRequestOptions,
} from './files.js';
export { AgentFilesError, type AgentFilesErrorCode } from './errors.js';
