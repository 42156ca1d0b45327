import { availableParallelism, totalmem } from 'node:os';
import { AUTH_OPTIONS, type AuthFlags } from './auth-options.js';
import { CAPACITY_OPTIONS, type CapacityFlags } from './capacity-options.js';
import { CONTAINER_OPTIONS, type ContainerFlags } from './container-options.js';
import { MESOS_OPTIONS, type MesosFlags } from './mesos-options.js';
import { RETENTION_OPTIONS, type RetentionFlags } from './retention-options.js';
import { STORE_OPTIONS, type StoreFlags } from './store-options.js';
import { SECRETS_OPTIONS, type SecretsFlags } from './secrets-options.js';
import type { OptionSpecOf } from './option-spec.js';
import { MAX_MMAP_THRESHOLD_KB } from '../malloc-threshold.js';

export type { OptionType } from './option-spec.js';

/** One setting of the server (see OptionSpecOf). */
export type OptionSpec = OptionSpecOf<keyof FlatConfig>;

/** Every setting, flat: what flags, env vars and the config file give. */
export interface FlatConfig
  extends MesosFlags, ContainerFlags, RetentionFlags, AuthFlags, SecretsFlags, CapacityFlags, StoreFlags {
  listen: string;
  dataDir: string;
  databaseUrl: string | null;
  leaseMs: number;
  advertiseUrl: string | null;
  backend: string;
  cluster: string;
  localCpus: number;
  localMemoryMb: number;
  stopGraceMs: number;
  adoptCheckMs: number;
  localLogMaxMb: number;
  retryMaxAttempts: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  logLevel: string;
  serverMode: string;
  logFollowMs: number;
  httpRequestTimeoutMs: number;
  httpIdleTimeoutMs: number;
  httpKeepAliveTimeoutMs: number;
  httpMaxRequestsPerSocket: number;
  httpMaxConnections: number;
  streamMaxClients: number;
  heapGrowingPercent: number;
  mallocMmapThresholdKb: number;
  mallocTrimIdleMs: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The settings, in the order the README lists them. */
export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'listen',
    flag: '--listen',
    env: 'GALLEY_LISTEN',
    type: 'address',
    default: () => '127.0.0.1:1424',
    description:
      'Address of the HTTP API and UI, `host:port` (port 0 = any free port; the bound address is logged).',
  },
  {
    key: 'dataDir',
    flag: '--data-dir',
    env: 'GALLEY_DATA_DIR',
    type: 'string',
    default: () => './.galley',
    description:
      'Directory for the embedded database (`db/`) and run logs (`runs/<run_id>/<attempt>/stdout|stderr`).',
  },
  {
    key: 'databaseUrl',
    flag: '--database-url',
    env: 'DATABASE_URL',
    type: 'string',
    default: () => null,
    description:
      'PostgreSQL URL. When set, the store is PostgreSQL; otherwise embedded PGlite in the data dir.',
  },
  ...STORE_OPTIONS,
  {
    key: 'leaseMs',
    flag: '--lease-ms',
    env: 'GALLEY_LEASE_MS',
    type: 'integer',
    min: 300,
    default: () => 3_000,
    description:
      'With PostgreSQL, several replicas may serve one database: the leader holds the `scheduler` lease this long, renewing it every third of it, and stops scheduling before it could expire. A replica whose process died frees it at once; a paused or cut-off one after this long.',
  },
  {
    key: 'advertiseUrl',
    flag: '--advertise-url',
    env: 'GALLEY_ADVERTISE_URL',
    type: 'string',
    default: () => null,
    description:
      "This replica's URL as the other replicas reach it (they proxy the logs of local runs of this host to it); default: the bound listen address.",
  },
  {
    key: 'backend',
    flag: '--backend',
    env: 'GALLEY_BACKEND',
    type: 'string',
    choices: ['local', 'mesos'],
    default: () => 'local',
    description:
      'Execution backend of the default cluster: `local` runs commands on this machine, `mesos` on the Mesos cluster of `--mesos-master` (a `local` cluster stays available).',
  },
  {
    key: 'cluster',
    flag: '--cluster',
    env: 'GALLEY_CLUSTER',
    type: 'string',
    default: () => 'local',
    description:
      "Name of the backend's cluster (the default cluster of runs; `default` in an execute means this one).",
  },
  {
    key: 'localCpus',
    flag: '--local-cpus',
    env: 'GALLEY_LOCAL_CPUS',
    type: 'number',
    min: 0.001,
    default: () => availableParallelism(),
    description: "CPUs the local backend may use at once (default: this machine's).",
  },
  {
    key: 'localMemoryMb',
    flag: '--local-memory-mb',
    env: 'GALLEY_LOCAL_MEMORY_MB',
    type: 'integer',
    min: 1,
    default: () => Math.floor(totalmem() / 1024 / 1024),
    description: "Memory in MB the local backend may use at once (default: this machine's).",
  },
  {
    key: 'stopGraceMs',
    flag: '--stop-grace-ms',
    env: 'GALLEY_STOP_GRACE_MS',
    type: 'integer',
    min: 0,
    default: () => 10_000,
    description: 'After SIGTERM, how long a stopped run may take before SIGKILL.',
  },
  {
    key: 'adoptCheckMs',
    flag: '--adopt-check-ms',
    env: 'GALLEY_ADOPT_CHECK_MS',
    type: 'integer',
    min: 10,
    default: () => 1_000,
    description:
      'How often processes adopted after a restart are checked for an end the server could not see.',
  },
  {
    key: 'localLogMaxMb',
    flag: '--local-log-max-mb',
    env: 'GALLEY_LOCAL_LOG_MAX_MB',
    type: 'integer',
    min: 0,
    default: () => 100,
    description:
      'Each local attempt’s (and pipeline process’s) stdout and stderr are kept within this many MB: later output is dropped, and the log says so at the cut. 0 = no cap.',
  },
  {
    key: 'retryMaxAttempts',
    flag: '--retry-max-attempts',
    env: 'GALLEY_RETRY_MAX_ATTEMPTS',
    type: 'integer',
    min: 1,
    default: () => 3,
    description: 'Attempts per run before a host failure is final.',
  },
  {
    key: 'retryInitialDelayMs',
    flag: '--retry-initial-delay-ms',
    env: 'GALLEY_RETRY_INITIAL_DELAY_MS',
    type: 'integer',
    min: 0,
    default: () => 1_000,
    description: 'Delay before the first retry; doubles per attempt, ±20% jitter.',
  },
  {
    key: 'retryMaxDelayMs',
    flag: '--retry-max-delay-ms',
    env: 'GALLEY_RETRY_MAX_DELAY_MS',
    type: 'integer',
    min: 0,
    default: () => 60_000,
    description: 'Longest delay between retries.',
  },
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'GALLEY_LOG_LEVEL',
    type: 'level',
    default: () => 'info',
    description: `Log level: ${LOG_LEVELS.join(', ')}.`,
  },
  {
    key: 'serverMode',
    flag: '--server-mode',
    env: 'GALLEY_SERVER_MODE',
    type: 'string',
    default: () => 'dev',
    description: 'Value of `FLOTILLA_SERVER_MODE` given to runs.',
  },
  {
    key: 'logFollowMs',
    flag: '--log-follow-ms',
    env: 'GALLEY_LOG_FOLLOW_MS',
    type: 'integer',
    min: 10,
    default: () => 250,
    description: 'How often a log follower looks for new output when nothing woke it.',
  },
  {
    key: 'httpRequestTimeoutMs',
    flag: '--http-request-timeout-ms',
    env: 'GALLEY_HTTP_REQUEST_TIMEOUT_MS',
    type: 'integer',
    min: 100,
    default: () => 30_000,
    description:
      'Longest time to receive a whole request, headers and body: a slower one is answered 408 and its connection closed (checked every quarter of it, at most every 5 s).',
  },
  {
    key: 'httpIdleTimeoutMs',
    flag: '--http-idle-timeout-ms',
    env: 'GALLEY_HTTP_IDLE_TIMEOUT_MS',
    type: 'integer',
    min: 100,
    default: () => 120_000,
    description:
      'While a request is received or answered, a connection with nothing sent either way for this long is closed (event streams and log followers excepted); between requests the keep-alive timeout applies.',
  },
  {
    key: 'httpKeepAliveTimeoutMs',
    flag: '--http-keep-alive-timeout-ms',
    env: 'GALLEY_HTTP_KEEP_ALIVE_TIMEOUT_MS',
    type: 'integer',
    min: 1,
    default: () => 72_000,
    description: 'How long a kept-alive connection waits for its next request.',
  },
  {
    key: 'httpMaxRequestsPerSocket',
    flag: '--http-max-requests-per-socket',
    env: 'GALLEY_HTTP_MAX_REQUESTS_PER_SOCKET',
    type: 'integer',
    min: 0,
    default: () => 0,
    description:
      'Requests one kept-alive connection may make (0 = no limit): the last answer says `Connection: close`, and Node answers any further request on it 503.',
  },
  {
    key: 'httpMaxConnections',
    flag: '--http-max-connections',
    env: 'GALLEY_HTTP_MAX_CONNECTIONS',
    type: 'integer',
    min: 1,
    default: () => 4_096,
    description: 'Connections served at once; more are closed as they come.',
  },
  {
    key: 'streamMaxClients',
    flag: '--stream-max-clients',
    env: 'GALLEY_STREAM_MAX_CLIENTS',
    type: 'integer',
    min: 1,
    default: () => 1_000,
    description:
      'Event-stream (`GET /api/v1/stream`) clients served at once; more are answered 503 with Retry-After.',
  },
  {
    key: 'heapGrowingPercent',
    flag: '--heap-growing-percent',
    env: 'GALLEY_HEAP_GROWING_PERCENT',
    type: 'integer',
    min: 0,
    max: 400,
    default: () => 50,
    description:
      "How far the server's JavaScript heap may grow past what its last full garbage collection kept, in percent, before it collects again (V8's `--heap-growing-percent`); 0 = V8's own policy, which lets a busy heap grow to several times its live data. At 100,000 runs in flight (`bench:scale`) 50 keeps the server at 370–420 MB instead of 540–610, for a little more CPU spent collecting (dispatch 1,079–1,168 runs/s against 1,160 with 0). A `--heap-growing-percent` given to node itself (`NODE_OPTIONS`) wins.",
  },
  {
    key: 'mallocMmapThresholdKb',
    flag: '--malloc-mmap-threshold-kb',
    env: 'GALLEY_MALLOC_MMAP_THRESHOLD_KB',
    type: 'integer',
    min: 0,
    max: MAX_MMAP_THRESHOLD_KB,
    default: () => 128,
    description:
      "glibc's mmap threshold for the server process, in KiB (mallopt `M_MMAP_THRESHOLD`): a block this large or larger is mapped on its own and given back when freed. Fixed, it cannot rise as glibc's own threshold does (to 9 MB once PGlite's WebAssembly is read), after which glibc keeps the ~50 MB V8 uses to compile it: the idle server on PGlite after a restart is 220 MB instead of 246 (190 instead of 219 30 s later; `bench:footprint`). 0 = glibc's dynamic threshold. glibc only, through the optional `koffi` package; `GLIBC_TUNABLES` setting a malloc threshold wins.",
  },
  {
    key: 'mallocTrimIdleMs',
    flag: '--malloc-trim-idle-ms',
    env: 'GALLEY_MALLOC_TRIM_IDLE_MS',
    type: 'integer',
    min: 0,
    max: 3_600_000,
    default: () => 1_000,
    description:
      "When the server goes idle (a period this long in which it used under 2 % of a core, after one in which it used more), glibc gives back the free memory its arenas keep (malloc_trim(3)): the ~40 MB that start-up's threads leave free there, for one. The idle server on PGlite after a restart: 185 MB before the trim, 145 MB after (`bench:footprint`). 0 = never. glibc only, through the optional `koffi` package.",
  },
  ...MESOS_OPTIONS,
  ...CONTAINER_OPTIONS,
  ...AUTH_OPTIONS,
  ...SECRETS_OPTIONS,
  ...RETENTION_OPTIONS,
  ...CAPACITY_OPTIONS,
];
