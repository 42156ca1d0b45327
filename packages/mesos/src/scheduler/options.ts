/** The scheduler's configuration: one object, defaults resolved once (`resolveSchedulerOptions`). */
import type { FrameworkIdStore } from '../framework-id/store.js';
import { createMemoryFrameworkIdStore } from '../framework-id/store.js';
import type { BasicCredentials, TlsOptions } from '../http/client.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../http/client.js';
import type { MasterDetector } from '../master/detector.js';
import { DEFAULT_MAX_RECORD_BYTES } from '../recordio/decoder.js';
import type { FrameworkID, FrameworkInfo, OfferConstraints } from '../types/index.js';
import { type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.js';
import { type Clock, SYSTEM_CLOCK } from './clock.js';
import { SchedulerError } from './errors.js';
import type { SchedulerHandlers } from './handlers.js';
import { type Logger, SILENT_LOGGER } from './lifecycle.js';
import { type ReconciliationOptions, resolveReconciliation } from './reconciliation/reconciler.js';

/** Options of `createScheduler`. Durations are in ms unless the name says otherwise. */
export interface SchedulerOptions<M = never> {
  /**
   * Where the masters are: `zk://h1:2181,h2:2181/mesos`, `host1:5050,host2:5050`, a DNS name such
   * as `leader.mesos:5050`, or a `MasterDetector`.
   */
  master: string | readonly string[] | MasterDetector;
  /**
   * The framework. `failover_timeout` defaults to one week (604 800 s) and `checkpoint` to
   * true here, unlike Mesos' dangerous defaults (0 and false). `id` comes from the store.
   */
  framework: Omit<FrameworkInfo, 'id'> & { id?: FrameworkID };
  /** Where the framework id is kept. Default: in memory (lost on restart). */
  frameworkIdStore?: FrameworkIdStore;
  /**
   * For a framework run by several instances, one leading at a time: whether this one still
   * leads. Asked right before every SUBSCRIBE; once it answers false the scheduler stops
   * (`not-leading`) instead of subscribing, so a deposed instance whose stream broke never takes
   * the framework back from the new leader (the master would fail the leader over). Default:
   * always true.
   */
  leading?: () => boolean;
  /** Ordered handlers (see `SchedulerHandlers`). More can be set later with `handle`. */
  handlers?: SchedulerHandlers<M>;
  /**
   * `auto` (default): ACKNOWLEDGE each UPDATE carrying a uuid after its handler completed
   * without throwing. `manual`: only `context.acknowledge()` / `scheduler.acknowledge()` do.
   */
  acknowledge?: 'auto' | 'manual';
  /** Items waiting in the ordered queue before the stream stops being read. Default 1024. */
  queueCapacity?: number;
  /** Heartbeat intervals without any event before the subscription is dropped. Default 5. */
  heartbeatMissLimit?: number;
  /** Re-subscription backoff. Default 500 ms × 2 up to 15 s, half jittered. */
  backoff?: Partial<BackoffPolicy>;
  /** 307 hops followed for one SUBSCRIBE. Default 3. */
  maxRedirects?: number;
  /** HTTP basic auth (sent on every request). */
  credentials?: BasicCredentials;
  tls?: TlsOptions;
  /** Scheme for masters given without one, and for ZooKeeper-detected masters. Default http. */
  scheme?: 'http' | 'https';
  /** Timeout of each call (and of SUBSCRIBE's response headers). Default 75 000. */
  requestTimeoutMs?: number;
  /** Task reconciliation after every SUBSCRIBED and periodically. */
  reconciliation?: ReconciliationOptions;
  /** Roles to start suppressed on SUBSCRIBE. */
  suppressedRoles?: string[];
  offerConstraints?: OfferConstraints;
  /** Largest RecordIO record accepted. Default 256 MiB. */
  maxRecordBytes?: number;
  /** Time source (tests pass a fast or fake one). */
  clock?: Clock;
  /** Random source in [0, 1) for jitter. */
  random?: () => number;
  /** Structured logger; silent by default. Never receives credentials. */
  logger?: Logger;
}

/** Options with every default filled in. */
export interface ResolvedSchedulerOptions<M> {
  master: string | readonly string[] | MasterDetector;
  framework: FrameworkInfo;
  frameworkIdStore: FrameworkIdStore;
  leading: () => boolean;
  handlers: SchedulerHandlers<M>;
  acknowledge: 'auto' | 'manual';
  queueCapacity: number;
  heartbeatMissLimit: number;
  backoff: BackoffPolicy;
  maxRedirects: number;
  credentials: BasicCredentials | undefined;
  tls: TlsOptions | undefined;
  scheme: 'http' | 'https';
  requestTimeoutMs: number;
  reconciliation: ReturnType<typeof resolveReconciliation>;
  suppressedRoles: string[];
  offerConstraints: OfferConstraints | undefined;
  maxRecordBytes: number;
  clock: Clock;
  random: () => number;
  logger: Logger;
}

/** One week in seconds: the default `failover_timeout`. */
export const DEFAULT_FAILOVER_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** Validates `options` and fills in the defaults. Throws SchedulerError MESOS_BAD_OPTIONS. */
export function resolveSchedulerOptions<M>(options: SchedulerOptions<M>): ResolvedSchedulerOptions<M> {
  const bad = (what: string) => new SchedulerError('MESOS_BAD_OPTIONS', what);
  if (!options.framework?.user)
    throw bad('framework.user is required (Mesos does not fill it in on the HTTP API)');
  if (!options.framework.name) throw bad('framework.name is required');
  const positive = (value: number | undefined, fallback: number, name: string) => {
    const v = value ?? fallback;
    if (!(v > 0) || !Number.isFinite(v)) throw bad(`${name} must be a positive number`);
    return v;
  };
  const { id: _ignored, ...framework } = options.framework;
  return {
    master: options.master,
    framework: {
      ...framework,
      failover_timeout: options.framework.failover_timeout ?? DEFAULT_FAILOVER_TIMEOUT_SECONDS,
      checkpoint: options.framework.checkpoint ?? true,
      ...(options.framework.id ? { id: options.framework.id } : {}),
    },
    frameworkIdStore: options.frameworkIdStore ?? createMemoryFrameworkIdStore(),
    leading: options.leading ?? (() => true),
    handlers: { ...options.handlers },
    acknowledge: options.acknowledge ?? 'auto',
    queueCapacity: Math.floor(positive(options.queueCapacity, 1024, 'queueCapacity')),
    heartbeatMissLimit: positive(options.heartbeatMissLimit, 5, 'heartbeatMissLimit'),
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    maxRedirects: options.maxRedirects ?? 3,
    credentials: options.credentials,
    tls: options.tls,
    scheme: options.scheme ?? 'http',
    requestTimeoutMs: positive(options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs'),
    reconciliation: resolveReconciliation(options.reconciliation),
    suppressedRoles: options.suppressedRoles ?? [],
    offerConstraints: options.offerConstraints,
    maxRecordBytes: positive(options.maxRecordBytes, DEFAULT_MAX_RECORD_BYTES, 'maxRecordBytes'),
    clock: options.clock ?? SYSTEM_CLOCK,
    random: options.random ?? Math.random,
    logger: options.logger ?? SILENT_LOGGER,
  };
}
