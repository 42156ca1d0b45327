import type { DefinitionRecord, RunEventRecord, AttemptRecord, RunRecord } from '../model/records.js';
import type { Definition } from './schemas/definitions.js';
import type { Run } from './schemas/runs.js';
import { describeOutcome } from '@galley/core';
import { runsOnHost } from './execute.js';
import { definitionDeadline, presentDefinitionPlacement, presentRunPlacement } from './placement.js';
import { definitionExtras, runRetryStrategy } from '../runs/retry-strategy.js';
import { presentRunBatch } from './present-queues.js';

/** ms since the epoch as ISO 8601; null stays null. */
export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A definition as flotilla's JSON. */
export function presentDefinition(d: DefinitionRecord): Definition {
  return {
    definition_id: d.definitionId,
    alias: d.alias,
    group_name: d.groupName,
    image: d.image,
    command: d.command,
    memory: d.memory,
    cpu: d.cpu,
    gpu: d.gpu,
    env: d.env,
    ports: d.ports,
    tags: d.tags,
    target_cluster: d.targetCluster,
    active_deadline_seconds: definitionDeadline(d),
    ...presentDefinitionPlacement(d.placement),
    retry_strategy: definitionExtras(d).retryStrategy ?? null,
    retention_days: definitionExtras(d).retentionDays ?? null,
    queue: definitionExtras(d).queue ?? null,
    created_at: iso(d.createdAt)!,
    updated_at: iso(d.updatedAt)!,
  };
}

/** A run as flotilla's JSON, plus Galley's fields (queued_reason, owner_id, engine, runs_on_host). */
export function presentRun(r: RunRecord): Run {
  const s = r.state;
  return {
    run_id: r.runId,
    definition_id: r.definitionId,
    alias: r.alias,
    image: r.image,
    cluster: r.cluster,
    status: s.status,
    exit_code: s.exitCode,
    exit_reason: s.exitReason,
    queued_reason: s.queuedReason,
    queued_at: iso(s.queuedAt),
    started_at: iso(s.startedAt),
    finished_at: iso(s.finishedAt),
    retry_at: iso(s.retryAt),
    stop_requested_at: iso(s.stopRequestedAt),
    group_name: r.groupName,
    env: r.env,
    command: r.command,
    memory: r.memory,
    cpu: r.cpu,
    gpu: r.gpu,
    attempt_count: s.attemptCount,
    instance: { instance_id: r.host?.hostId ?? '', dns_name: r.host?.dnsName ?? '' },
    run_exceptions: r.runExceptions,
    description: r.description,
    idempotence_key: r.idempotenceKey,
    active_deadline_seconds: r.activeDeadlineSeconds,
    max_memory_used: r.maxMemoryUsed,
    max_cpu_used: r.maxCpuUsed,
    owner_id: r.ownerId,
    run_tags: { owner_id: r.ownerId },
    engine: r.engine,
    runs_on_host: runsOnHost(r),
    version: r.version,
    ...(runRetryStrategy(r) ? { retry_strategy: runRetryStrategy(r)! } : {}),
    ...presentRunPlacement(r.placement),
    ...presentRunBatch(r),
  };
}

/** A run's timeline and attempts for GET /{run_id}/events. */
export function presentTimeline(run: RunRecord, events: RunEventRecord[], attempts: AttemptRecord[]) {
  return {
    run_id: run.runId,
    total: events.length,
    events: events.map((e) => ({
      at: iso(e.at)!,
      type: e.type,
      status: e.status,
      attempt_id: e.attemptId,
      reason: e.reason,
    })),
    attempts: attempts.map((a) => ({
      attempt_id: a.attemptId,
      seq: a.seq,
      cluster: a.cluster,
      state: a.state,
      created_at: iso(a.createdAt),
      launched_at: iso(a.launchedAt),
      ended_at: iso(a.endedAt),
      outcome: a.outcome ? describeOutcome(a.outcome) : null,
    })),
  };
}
