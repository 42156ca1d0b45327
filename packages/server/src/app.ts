import { randomUUID } from 'node:crypto';
import { resolveRetryPolicy } from '@galley/core';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { apiPlugin } from './api/plugin.js';
import { StreamHub } from './api/stream-hub.js';
import type { ApiDeps } from './api/deps.js';
import { installJsonBodies } from './api/body.js';
import { clientErrorHandler, frameworkErrors, installErrorHandler } from './api/errors.js';
import { installInputGuard } from './api/input-guard.js';
import { lazyCompilersFactory } from './api/lazy-schemas.js';
import { MAX_PATH_ID_LENGTH } from './api/schemas/common.js';
import { openApiPlugin } from './api/openapi.js';
import { pipelineRoutes } from './api/routes/pipelines.js';
import { chooseLocalRuntime } from './backends/local/create.js';
import { LocalBackend } from './backends/local/local-backend.js';
import { type Clock, systemClock } from './clock.js';
import { LOCAL_CLUSTER } from './config/mesos-settings.js';
import { AuthService, AuthSetupError } from './auth/service.js';
import { installAuth } from './auth/hooks.js';
import {
  checkStartable,
  type Config,
  ConfigError,
  type HttpSettings,
  redactConfig,
} from './config/config.js';
import { RunController } from './runs/controller.js';
import { QueueGate } from './queues/gate.js';
import { TermLeadership } from './control/leadership.js';
import { joinReplicaSet, newReplicaId } from './control/replica-set.js';
import { TermBackend } from './control/term-backend.js';
import { RunFeed } from './runs/feed.js';
import { Metrics } from './metrics/metrics.js';
import { PipelineController } from './pipelines/controller.js';
import { Autoscaler } from './autoscaling/autoscaler.js';
import { AutoscalingRecords } from './autoscaling/decisions.js';
import { type Automation, startAutomation } from './schedules/automation.js';
import { storedFrameworkId } from './store/framework-ids.js';
import { openStore } from './store/open.js';
import type { SqlClient } from './store/sql-client.js';
import type { Store } from './store/store.js';
import { findWebDist, uiPlugin } from './ui.js';
import { installSecretReferenceCheck } from './secrets/api-check.js';
import { localRunAs, setUpSecrets } from './secrets/setup.js';

export { VERSION } from './version.js';
import { VERSION } from './version.js';

/** A whole Galley server, built from a config; not yet listening. */
export interface GalleyServer {
  app: FastifyInstance;
  runs: RunController;
  /** Pipelines: the controller that keeps their instances running. */
  pipelines: PipelineController;
  /** Schedules, retention and webhook deliveries (the leader's background work). */
  automation: Automation;
  store: Store;
  metrics: Metrics;
  config: Config;
  logger: Logger;
  /**
   * Listens on the configured address (once: a second call answers the same); answers the URL it
   * is bound to (port 0 → the real port).
   */
  listen(): Promise<string>;
  /** Stops serving, the run controller and the store. Running attempts keep running. */
  close(): Promise<void>;
}

/** How `buildServer` starts serving HTTP. */
export interface StartOptions {
  /**
   * Listen as soon as the HTTP app is built, before this replica competes for leadership and, as
   * the leader, takes over the work in flight: the API answers meanwhile, as a follower's does,
   * from the store (`galley serve` does this). Otherwise `listen()` is the caller's to call.
   */
  listenBeforeTakeover?: boolean;
  /** Called once when the server listens: the URL it is bound to and the store's kind. */
  onListening?: (url: string, store: string) => void;
}

/** Seams a test may replace. */
export interface ServerSeams {
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
  newId?: () => string;
  /** Where the web UI build is; default: found in the workspace. null = none. */
  webDist?: string | null;
}

/**
 * Builds the server: opens the store (migrating it), starts the backends and the run controller (which
 * reconciles runs in flight), and assembles the HTTP API, OpenAPI docs, metrics and UI.
 */
export async function buildServer(
  config: Config,
  seams: ServerSeams = {},
  start: StartOptions = {},
): Promise<GalleyServer> {
  const logger = seams.logger ?? pino({ level: config.logLevel, base: { service: 'galley' } });
  const clock = seams.clock ?? systemClock;
  checkStartable(config);
  logger.info({ config: redactConfig(config) }, 'starting');
  logger.info({ auth: config.auth.mode }, `auth: ${authSummary(config)}`);
  const replicaId = newReplicaId();
  // Chosen once: every leadership term's local backend runs images the same way. The probe (a
  // container run through the CLI, ~1 s) goes on while the store opens: it was most of a restart.
  let storeOpened = () => {};
  const containersChosen = chooseLocalRuntime(
    config.containers,
    config.dataDir,
    logger.child({ component: 'local' }),
    new Promise<void>((resolve) => (storeOpened = resolve)),
  );
  containersChosen.catch(() => undefined); // awaited below; a failure surfaces there
  const store = await openStore(
    config.databaseUrl
      ? { databaseUrl: config.databaseUrl }
      : { dataDir: config.dataDir, engine: config.store },
    {
      onIdleError: (err) => logger.warn({ err: err.message }, 'store: idle connection error'),
      origin: replicaId,
      // A replica paused inside a transaction loses it before its lease could pass to another:
      // its locks (a fenced write holds the lease row) never hold up the next leader.
      idleInTransactionMs: Math.max(100, Math.floor(config.ha.leaseMs / 2)),
    },
  );
  storeOpened();
  let replicas: Awaited<ReturnType<typeof joinReplicaSet>> | null = null;
  let http: FastifyInstance | null = null;
  let cleanUp = () => {};
  try {
    // One replica among several on one PostgreSQL (alone on PGlite): only the leader runs the
    // backends, each leadership term with fresh ones (TermBackend); every replica serves the API.
    const replicaSet = await joinReplicaSet({
      store,
      databaseUrl: config.databaseUrl,
      leaseMs: config.ha.leaseMs,
      clock,
      logger,
      id: replicaId,
    });
    replicas = replicaSet;
    const auth = await startAuth(config, store.sql, clock);
    const secrets = await setUpSecrets({
      settings: config.secrets,
      dataDir: config.dataDir,
      embedded: config.databaseUrl === null,
      sql: store.sql,
      clock,
      logger,
    });
    cleanUp = () => secrets.close();
    const { leadership } = replicaSet;
    const terms = new TermLeadership(leadership);
    const feed = new RunFeed();
    const metrics = new Metrics(store);
    const containers = await containersChosen;
    const backend = new TermBackend(() =>
      secrets.wrap(
        new LocalBackend({
          cluster: localClusterName(config),
          dataDir: config.dataDir,
          cpus: config.local.cpus,
          memoryMb: config.local.memoryMb,
          adoptCheckMs: config.local.adoptCheckMs,
          ...(config.local.logMaxBytes !== null ? { logMaxBytes: config.local.logMaxBytes } : {}),
          clock,
          logger: logger.child({ component: 'local' }),
          runtime: containers.runtime,
          hostModeWhy: containers.why,
          ports: config.local.ports,
          ...localRunAs(secrets.runAs),
        }),
      ),
    );
    // The Mesos backends (the SDK, undici, the ZooKeeper client: ~0.4 s and ~25 MB resident
    // to load) and the capacity service load only when configured.
    const { createMesosBackends } =
      config.mesos.clusters.length > 0
        ? await import('./backends/mesos/create.js')
        : { createMesosBackends: () => [] };
    const mesos = config.mesos.clusters.map(
      (cluster) =>
        new TermBackend(() =>
          secrets.wrap(
            createMesosBackends(
              { ...config, mesos: { ...config.mesos, clusters: [cluster] } },
              {
                frameworkIds: (name) => storedFrameworkId(replicaSet.frameworkIds, name, clock),
                leading: () => leadership.isLeader(),
                attempt: (attemptId) => store.getAttempt(attemptId),
                clock,
                logger,
                random: seams.random ?? Math.random,
              },
            )[0]!,
          ),
        ),
    );
    const runs = new RunController({
      store,
      backends: [backend, ...mesos],
      leadership,
      terms,
      feed,
      clock,
      random: seams.random ?? Math.random,
      policy: resolveRetryPolicy(config.retry),
      stopGraceMs: config.local.stopGraceMs,
      logger: logger.child({ component: 'runs' }),
      queues: new QueueGate({
        store,
        logger: logger.child({ component: 'queues' }),
        wake: () => runs.wake(),
        feed,
        stop: (runId: string, reason: string): Promise<unknown> => runs.requestStop(runId, reason),
      }),
      onDispatched: (ms) => metrics.dispatchLatency.observe(ms),
    });
    const pipelines = new PipelineController({
      store,
      backends: [backend, ...mesos],
      dispatch: runs,
      leadership: terms,
      clock,
      logger: logger.child({ component: 'pipelines' }),
      defaultCluster: config.cluster,
      random: seams.random ?? Math.random,
    });
    // Cluster capacity per Mesos role (`--capacity-config`): the leader's loop, one per cluster.
    const capacity = config.capacityConfig
      ? (await import('./capacity/service.js')).createCapacity({
          file: config.capacityConfig,
          config,
          backends: mesos,
          store,
          runs,
          leadership: terms,
          clock,
          logger,
        })
      : null;
    const autoscalingRecords = new AutoscalingRecords(store.sql);
    const autoscaler = new Autoscaler({
      store,
      records: autoscalingRecords,
      pipelines,
      leadership: terms,
      clock,
      logger: logger.child({ component: 'autoscaling' }),
    });
    const stream = new StreamHub(feed, config.http.maxStreamClients, config.auth.streamMaxPerToken);
    const deps: ApiDeps = {
      store,
      runs,
      feed,
      stream,
      pipelines,
      clock,
      newId: seams.newId ?? randomUUID,
      config,
      startedAt: clock.now(),
      version: VERSION,
      autoscaling: autoscalingRecords,
      capacity,
      auth,
      secrets: secrets.store,
    };
    const app = await buildHttp(
      deps,
      metrics,
      logger,
      seams.webDist === undefined ? findWebDist() : seams.webDist,
    );
    http = app;
    let listening: Promise<string> | null = null;
    const listen = () =>
      (listening ??= (async () => {
        const address = await app.listen({ host: config.listen.host, port: config.listen.port });
        await replicaSet.listening(config.ha.advertiseUrl ?? address);
        logger.info(
          { url: address, store: store.kind, cluster: config.cluster, replica: replicaSet.id },
          'Galley listening',
        );
        start.onListening?.(address, store.kind);
        return address;
      })());
    // Finding 1,000 runs in flight again takes ~0.8 s of a restart (bench:restart): the API need
    // not wait for it, a follower's does not either.
    if (start.listenBeforeTakeover) await listen();
    // Leadership is competed for once the HTTP app is built: building it keeps the event loop busy
    // for a while, which a leader's lease renewals must not wait behind.
    await replicaSet.follow({ feed, runs, pipelines });
    await runs.start(() => pipelines.handOver());
    await pipelines.start();
    autoscaler.start();
    capacity?.start();
    const automation = startAutomation({
      store,
      runs,
      feed,
      clock,
      newId: deps.newId,
      config,
      logger,
    });
    return {
      app,
      runs,
      pipelines,
      automation,
      store,
      metrics,
      config,
      logger,
      listen,
      async close() {
        stream.close();
        await app.close();
        await automation.close();
        await capacity?.close();
        await autoscaler.close();
        await pipelines.close();
        await runs.close();
        await replicaSet.close();
        secrets.close();
        await store.close();
      },
    };
  } catch (err) {
    await http?.close().catch(() => undefined);
    cleanUp();
    await replicas?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** Largest request body, in bytes. */
const BODY_LIMIT = 1024 * 1024;

/**
 * The HTTP server. Its timeouts and caps (config `http`): a whole request must arrive within
 * `requestTimeoutMs` (else 408 and the connection closed; Node checks every quarter of it, at most
 * every 5 s), headers within the same or 60 s; a connection silent for `idleTimeoutMs` during a
 * request is closed (the event stream and log followers lift it for theirs); kept-alive
 * connections wait `keepAliveTimeoutMs` for their next request and serve `maxRequestsPerSocket`
 * (0 = any number); at most `maxConnections` at once. Every
 * error, fastify's own included, is `{code, message, fields?}`; bodies are JSON whatever their
 * content type; ids up to MAX_PATH_ID_LENGTH reach their routes.
 */
async function buildHttp(deps: ApiDeps, metrics: Metrics, logger: Logger, webDist: string | null) {
  const http = deps.config.http;
  const app = Fastify({
    loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    bodyLimit: BODY_LIMIT,
    ...serverTimeouts(http),
    routerOptions: { maxParamLength: MAX_PATH_ID_LENGTH },
    frameworkErrors,
    clientErrorHandler,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
    // Each route's schemas compile at its first request, not all before listening.
    schemaController: { compilersFactory: lazyCompilersFactory() },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.server.maxConnections = http.maxConnections;
  installErrorHandler(app);
  installJsonBodies(app);
  installInputGuard(app);
  installSecretReferenceCheck(app);
  await installAuth(app, {
    auth: deps.auth,
    store: deps.store,
    listenHost: deps.config.listen.host,
    advertiseUrl: deps.config.ha.advertiseUrl,
  });
  metrics.install(app);
  await app.register(openApiPlugin, { version: deps.version });
  await app.register(apiPlugin, { deps });
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  await app.register(uiPlugin, { dist: webDist });
  // Faustian's own paths (/pipelines, /ping), beside the UI's pages of the same names.
  await app.register(pipelineRoutes, { deps, documented: false, pageFallback: true });
  await app.ready();
  return app as unknown as FastifyInstance;
}

/** The local backend's cluster name: the default cluster's, unless that one is a Mesos cluster. */
export function localClusterName(config: Config): string {
  return config.backend === 'local' ? config.cluster : LOCAL_CLUSTER;
}

/** The auth mode in words, for the start-up log and `galley serve`'s stderr: `none (loopback only)`. */
export function authSummary(config: Config): string {
  return config.auth.mode === 'none' ? 'none (loopback only)' : config.auth.mode;
}

/** The auth service, its bootstrap token read and checked: a server nobody could use refuses to start. */
async function startAuth(config: Config, sql: SqlClient, clock: Clock): Promise<AuthService> {
  try {
    const auth = new AuthService(config.auth, sql, clock);
    await auth.checkUsable();
    return auth;
  } catch (err) {
    if (err instanceof AuthSetupError) throw new ConfigError([err.message]);
    throw err;
  }
}

/** Fastify's and Node's server options for the configured timeouts. */
function serverTimeouts(http: HttpSettings) {
  return {
    requestTimeout: http.requestTimeoutMs,
    connectionTimeout: http.idleTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    maxRequestsPerSocket: http.maxRequestsPerSocket,
    http: {
      headersTimeout: Math.min(60_000, http.requestTimeoutMs),
      requestTimeout: http.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(http.requestTimeoutMs / 4))),
    },
  };
}
