/** HTTP transport to Mesos masters and agents. */
export {
  MesosHttpClient,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type MesosHttpClientOptions,
  type MesosResponse,
  type MesosStreamResponse,
  type RequestOptions,
  type TlsOptions,
  type BasicCredentials,
} from './client.js';
export {
  MesosHttpError,
  MesosConnectionError,
  STATUS_BEHAVIOURS,
  statusBehaviour,
  isMesosTransportError,
  type MesosHttpErrorCode,
  type MesosConnectionErrorCode,
  type MesosTransportError,
  type StatusBehaviour,
} from './errors.js';
export {
  parseMasterAddress,
  resolveLeaderLocation,
  describeMaster,
  DEFAULT_MASTER_PORT,
} from './location.js';
