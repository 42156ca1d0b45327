import { newRunState } from '@galley/core';
import type { ClusterInfo } from '../backends/backend.js';
import type { DefinitionRecord, EnvVar, NewRun, RunPlacement } from '../model/records.js';
import { ApiError } from './errors.js';
import { definitionDeadline, runPlacement } from './placement.js';
import { definitionExtras, mergeStrategies } from '../runs/retry-strategy.js';
import type { ExecuteBody } from './schemas/runs.js';

/** What an execute needs to know of the server. */
export interface ExecuteContext {
  /** Configured clusters: name → backend kind. */
  clusters: ReadonlyMap<string, string>;
  /** Roles a run may name, by cluster; a cluster without an entry ignores roles. */
  roles?: ReadonlyMap<string, readonly string[]>;
  defaultCluster: string;
  /** Value of FLOTILLA_SERVER_MODE. */
  serverMode: string;
  now: number;
  runId: string;
  /** What a cluster says of itself now (whether it runs on the host, its bounds); absent = nothing known. */
  describe?: (cluster: string) => Pick<ClusterInfo, 'runsOnHost' | 'bounds'> | undefined;
}

/**
 * A run's placement as stored, plus whether it runs in a container: the runs table has no column
 * for it, so it is kept in the placement's JSON (whose unknown keys survive a round trip). Read it
 * with runsOnHost.
 */
type StoredRunPlacement = RunPlacement & { runsOnHost?: boolean };

/** Whether a run's command runs on its host without a container (`runs_on_host`). */
export function runsOnHost(run: Pick<NewRun, 'engine' | 'placement'>): boolean {
  return run.engine === 'local' && (run.placement as StoredRunPlacement | undefined)?.runsOnHost !== false;
}

/** The execute as its definition completes it: the definition's default queue when it names none. */
export function withDefinitionDefaults(def: DefinitionRecord, body: ExecuteBody): ExecuteBody {
  const queue = definitionExtras(def).queue;
  return body.queue === undefined && queue !== undefined ? { ...body, queue } : body;
}

/** Throws ApiError 422 when the run needs what its cluster can never give (GPUs, more ports than it has). */
function checkBounds(cluster: string, bounds: ClusterInfo['bounds'], gpu: number, ports: number): void {
  if (bounds?.gpus !== undefined && gpu > bounds.gpus) {
    const has = bounds.gpus === 0 ? 'has no GPU and can never have one' : `has at most ${bounds.gpus} GPUs`;
    throw new ApiError(422, 'NEVER_PLACEABLE', `the run needs ${gpu} GPU(s); cluster "${cluster}" ${has}`, {
      'body.gpu': `needs ${gpu} GPU(s); cluster ${cluster} ${has} (run it with gpu 0, or on a cluster with GPUs)`,
    });
  }
  if (bounds?.ports !== undefined && ports > bounds.ports) {
    const has = bounds.ports === 0 ? 'hands out no ports' : `hands out at most ${bounds.ports} ports`;
    throw new ApiError(
      422,
      'NEVER_PLACEABLE',
      `the run needs ${ports} port(s); cluster "${cluster}" ${has}`,
      {
        'definition.ports': `needs ${ports} port(s); cluster ${cluster} ${has}`,
      },
    );
  }
}

const EMPTY_PLACEMENT: RunPlacement = {
  role: null,
  constraints: [],
  diskMb: 0,
  healthCheck: null,
  ports: [],
};

/** Variables the server injects into every run; a definition or execute cannot override them. */
export function injectedEnv(runId: string, ownerId: string, serverMode: string): EnvVar[] {
  return [
    { name: 'GALLEY_RUN_ID', value: runId },
    { name: 'GALLEY_RUN_OWNER_ID', value: ownerId },
    { name: 'FLOTILLA_RUN_ID', value: runId },
    { name: 'FLOTILLA_RUN_OWNER_ID', value: ownerId },
    { name: 'FLOTILLA_SERVER_MODE', value: serverMode },
  ];
}

/** The definition's env with the execute's overrides (by name; later wins), then the injected ones. */
export function mergeEnv(base: EnvVar[], overrides: EnvVar[], injected: EnvVar[]): EnvVar[] {
  const merged = new Map<string, string>();
  for (const { name, value } of [...base, ...overrides]) merged.set(name, value);
  for (const { name } of injected) merged.delete(name);
  return [...injected, ...[...merged].map(([name, value]) => ({ name, value }))];
}

/**
 * A new QUEUED run of `def` with the execute's overrides. Throws ApiError 422 when the run cannot
 * be made: an unknown cluster, or nothing to run.
 */
export function buildRun(def: DefinitionRecord, body: ExecuteBody, ctx: ExecuteContext): NewRun {
  const wanted = body.cluster && body.cluster !== 'default' ? body.cluster : (def.targetCluster ?? 'default');
  const cluster = wanted === 'default' ? ctx.defaultCluster : wanted;
  const engine = ctx.clusters.get(cluster);
  if (engine === undefined) {
    const known = [...ctx.clusters.keys()].join(', ');
    throw new ApiError(
      422,
      'UNKNOWN_CLUSTER',
      `cluster "${cluster}" is not configured (configured: ${known})`,
      {
        'body.cluster': `is not a configured cluster (${known})`,
      },
    );
  }
  const command = body.command ?? def.command;
  if (command.trim() === '') {
    throw new ApiError(
      422,
      'NO_COMMAND',
      `definition "${def.alias}" has no command, and the execute gives none`,
      {
        'body.command': 'is required when the definition has no command',
      },
    );
  }
  const ownerId = body.run_tags.owner_id;
  const info = ctx.describe?.(cluster);
  checkBounds(cluster, info?.bounds, body.gpu ?? def.gpu, def.ports.length);
  let placement: StoredRunPlacement | undefined = runPlacement(def, body);
  // On a local cluster that runs images, a run runs in its image (one without an image, on the host).
  if (engine === 'local' && info?.runsOnHost === false && def.image.trim() !== '')
    placement = { ...(placement ?? EMPTY_PLACEMENT), runsOnHost: false };
  // The run's retry strategy: the execute's over the definition's, snapshotted on the run.
  const retryStrategy = mergeStrategies(definitionExtras(def).retryStrategy, body.retry_strategy);
  if (retryStrategy) placement = { ...(placement ?? EMPTY_PLACEMENT), retryStrategy } as StoredRunPlacement;
  const roles = ctx.roles?.get(cluster);
  if (roles && placement?.role && !roles.includes(placement.role)) {
    throw new ApiError(
      422,
      'UNKNOWN_ROLE',
      `role "${placement.role}" is not one of cluster "${cluster}"'s roles (${roles.join(', ')})`,
      { 'body.role': `is not a role of cluster ${cluster}` },
    );
  }
  return {
    runId: ctx.runId,
    definitionId: def.definitionId,
    alias: def.alias,
    groupName: def.groupName,
    image: def.image,
    command,
    cluster,
    engine,
    ownerId,
    env: mergeEnv(def.env, body.env ?? [], injectedEnv(ctx.runId, ownerId, ctx.serverMode)),
    memory: body.memory ?? def.memory,
    cpu: body.cpu ?? def.cpu,
    gpu: body.gpu ?? def.gpu,
    description: body.description ?? null,
    idempotenceKey: body.idempotence_key ?? null,
    activeDeadlineSeconds: body.active_deadline_seconds ?? definitionDeadline(def),
    pipelineId: null,
    state: newRunState(ctx.now),
    host: null,
    runExceptions: null,
    maxMemoryUsed: null,
    maxCpuUsed: null,
    ...(placement ? { placement } : {}),
  };
}
