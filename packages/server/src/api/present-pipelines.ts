import {
  describeInstance,
  isCrashLooping,
  isUpdateFinished,
  pipelineFailure,
  type PipelineSpec,
  type PipelineUpdate,
  readySince,
  type RestartBackoffPolicy,
} from '@galley/core';
import { launchHealth } from '../pipelines/instance-events.js';
import { failedPipelineReason, unservableReason } from '../pipelines/servable.js';
import type { InstanceRecord, PipelineRecord, UpdateRecord } from '../model/pipeline-records.js';
import { iso } from './present.js';
import type { PipelineJson, PipelineUpdateJson } from './schemas/pipelines.js';

/** Everything the answer about one pipeline is made of. */
export interface PipelineView {
  pipeline: PipelineRecord;
  instances: InstanceRecord[];
  history: UpdateRecord[];
  versions: Map<number, PipelineSpec>;
}

/** core's PipelineUpdate in snake_case, with `total` = instances wanted. */
export function presentUpdate(u: PipelineUpdate, total: number): PipelineUpdateJson {
  return {
    phase: u.phase,
    from_version: u.fromVersion,
    to_version: u.toVersion,
    failed_version: u.failedVersion,
    started_at: iso(u.startedAt),
    last_progress_at: iso(u.lastProgressAt),
    available_new: u.availableNew,
    total,
    batches: u.batches,
    reason: u.reason,
    stalled_at: iso(u.stalledAt),
    finished_at: iso(u.finishedAt),
  };
}

/** One instance as Faustian's `tasks[]` entry, plus Galley's state, health and crash-loop details. */
export function presentInstance(
  r: InstanceRecord,
  spec: PipelineSpec | undefined,
  now: number,
  backoff: RestartBackoffPolicy,
): PipelineJson['tasks'][number] {
  const s = r.state;
  const described = describeInstance(s, now, backoff);
  const launch = r.launch;
  const waiting =
    s.phase === 'starting' && launch?.waitingReason ? `waiting for capacity: ${launch.waitingReason}` : '';
  const processes: PipelineJson['tasks'][number]['processes'] = {};
  for (const [name, p] of Object.entries(launch?.processes ?? {})) {
    const pid = p.handle?.['pid'];
    processes[name] = {
      id: p.taskId,
      status: p.state,
      agent_id: p.agentId,
      updated: iso(p.updatedAt),
      ports: p.ports,
      pid: typeof pid === 'number' ? pid : null,
      health: p.health?.status ?? null,
      health_message: p.health?.message ?? null,
      exit_code: p.exit?.exitCode ?? null,
      message: p.exit?.message ?? null,
    };
  }
  const health = launch && spec ? launchHealth(launch, spec) : null;
  return {
    id: s.instanceId,
    pipeline_id: r.pipelineId,
    processor_id: launch?.launchId ?? null,
    message: described.message || waiting,
    launched: iso(s.launchedAt),
    failures: s.restarts,
    updated: iso(r.updatedAt),
    ok: readySince(s) !== null && s.unhealthyReason === null,
    failing: ['backing-off', 'crash-looping', 'unhealthy'].includes(described.status),
    killing: s.phase === 'stopping',
    processes,
    status: described.status,
    version: s.version,
    created: iso(s.createdAt),
    health: health?.status ?? null,
    crash_looping: isCrashLooping(s, now, backoff),
    crash_looping_since: iso(s.crashLoopingSince),
    restart_at: iso(s.restartAt),
    last_exit: s.lastExit
      ? {
          process: s.lastExit.process,
          exit_code: s.lastExit.exitCode,
          message: s.lastExit.message,
          at: iso(s.lastExit.at),
        }
      : null,
    host: launch?.hostname ?? null,
    waiting_reason: launch?.waitingReason ?? null,
  };
}

/** A pipeline's status word and, when it is `failed` or `failing`, why. */
function statusOf(
  v: PipelineView,
  now: number,
  backoff: RestartBackoffPolicy,
): { status: string; status_reason: string | null } {
  const p = v.pipeline;
  if (p.deletingAt !== null) return { status: 'deleting', status_reason: null };
  const unservable = unservableReason(p.spec);
  if (unservable !== null) return { status: 'failed', status_reason: failedPipelineReason(unservable) };
  if (p.update && !isUpdateFinished(p.update)) return { status: p.update.phase, status_reason: null };
  const failure = pipelineFailure(
    v.instances.map((i) => i.state),
    now,
    backoff,
  );
  return failure === null
    ? { status: 'steady', status_reason: null }
    : { status: 'failing', status_reason: failure };
}

/**
 * A pipeline as Faustian's JSON (its spec, defaults filled) with `tasks[]`, plus Galley's fields:
 * `status` `deleting`, `failed` (its stored spec cannot be served), `rolling`/`rolling-back`,
 * `failing` (an instance cannot be launched or crash-loops) or `steady`, and `status_reason`.
 */
export function presentPipeline(
  v: PipelineView,
  now: number,
  backoff: RestartBackoffPolicy,
): PipelineJson & { status_reason: string | null } {
  const p = v.pipeline;
  return {
    ...p.spec,
    version: p.version,
    cluster: p.cluster,
    ...statusOf(v, now, backoff),
    created: iso(p.createdAt),
    updated: iso(p.updatedAt),
    tasks: v.instances.map((i) => presentInstance(i, v.versions.get(i.state.version), now, backoff)),
    update: p.update ? presentUpdate(p.update, p.spec.instances) : null,
    updates: v.history.map((h) => presentUpdate(h.update, p.spec.instances)),
  };
}
