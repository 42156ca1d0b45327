import type { RetryPolicy } from '@galley/core';
import type { DefinitionPlacement, DefinitionRecord, RunRecord } from '../model/records.js';

/**
 * Retry strategies of definitions and executes, and retention and the default queue of
 * definitions (issue 16). Like a definition's deadline, they are kept in the placement JSON (whose
 * unknown keys survive a round trip) rather than in columns of their own: `retryStrategy`,
 * `retentionDays` and `queue` on a definition, the run's merged `retryStrategy` (its snapshot) on
 * a run.
 */
/** A retry strategy as the API writes it (`retry_strategy`, see api/schemas/schedules.ts). */
export interface RetryStrategyBody {
  attempts?: number;
  backoff?: { initial_seconds?: number; factor?: number; max_seconds?: number };
  evaluate_on_exit?: { on_exit_code?: string; on_reason?: string; action: 'retry' | 'exit' }[];
}

interface Extras {
  retryStrategy?: RetryStrategyBody;
  retentionDays?: number;
  /** The queue an execute that names none goes to. */
  queue?: string;
}

const EMPTY: DefinitionPlacement = { role: null, constraints: [], diskMb: 0, healthCheck: null };

/** A definition's retry strategy and retention days (undefined = the server's), and default queue. */
export function definitionExtras(d: Pick<DefinitionRecord, 'placement'>): Extras {
  const p = d.placement as (DefinitionPlacement & Extras) | undefined;
  return {
    ...(p?.retryStrategy ? { retryStrategy: p.retryStrategy } : {}),
    ...(typeof p?.retentionDays === 'number' ? { retentionDays: p.retentionDays } : {}),
    ...(typeof p?.queue === 'string' ? { queue: p.queue } : {}),
  };
}

/**
 * The placement to store for a definition: `placement` (as the placement fields made it) with the
 * body's `retry_strategy` / `retention_days` / `queue`, else those `before` had (null clears one).
 */
export function withDefinitionExtras(
  placement: DefinitionPlacement | undefined,
  body: { retry_strategy?: RetryStrategyBody | null; retention_days?: number | null; queue?: string | null },
  before?: Pick<DefinitionRecord, 'placement'>,
): DefinitionPlacement | undefined {
  const old = before ? definitionExtras(before) : {};
  const retryStrategy = body.retry_strategy === undefined ? old.retryStrategy : body.retry_strategy;
  const retentionDays = body.retention_days === undefined ? old.retentionDays : body.retention_days;
  const queue = body.queue === undefined ? old.queue : body.queue;
  const base = { ...(placement ?? EMPTY) } as DefinitionPlacement & Extras;
  delete base.retryStrategy;
  delete base.retentionDays;
  delete base.queue;
  if (retryStrategy) base.retryStrategy = retryStrategy;
  if (typeof retentionDays === 'number') base.retentionDays = retentionDays;
  if (typeof queue === 'string') base.queue = queue;
  const changed = retryStrategy || typeof retentionDays === 'number' || typeof queue === 'string';
  return changed ? base : placement === undefined ? undefined : base;
}

/** The execute's strategy over the definition's, field by field (rules as a whole). */
export function mergeStrategies(
  definition: RetryStrategyBody | undefined,
  execute: RetryStrategyBody | undefined,
): RetryStrategyBody | undefined {
  if (!definition && !execute) return undefined;
  const backoff = { ...definition?.backoff, ...execute?.backoff };
  const attempts = execute?.attempts ?? definition?.attempts;
  const rules = execute?.evaluate_on_exit ?? definition?.evaluate_on_exit;
  return {
    ...(attempts !== undefined ? { attempts } : {}),
    ...(Object.keys(backoff).length > 0 ? { backoff } : {}),
    ...(rules !== undefined ? { evaluate_on_exit: rules } : {}),
  };
}

/** The strategy snapshot a run carries (undefined = the server's policy). */
export function runRetryStrategy(run: Pick<RunRecord, 'placement'>): RetryStrategyBody | undefined {
  return (run.placement as Extras | undefined)?.retryStrategy;
}

/** The server's policy with a strategy's fields over it. */
export function policyWith(base: RetryPolicy, s: RetryStrategyBody | undefined): RetryPolicy {
  if (!s) return base;
  const b = s.backoff;
  return {
    ...base,
    ...(s.attempts !== undefined ? { maxAttempts: s.attempts } : {}),
    ...(b?.initial_seconds !== undefined ? { initialDelayMs: Math.round(b.initial_seconds * 1000) } : {}),
    ...(b?.factor !== undefined ? { factor: b.factor } : {}),
    ...(b?.max_seconds !== undefined ? { maxDelayMs: Math.round(b.max_seconds * 1000) } : {}),
    ...(s.evaluate_on_exit
      ? {
          rules: s.evaluate_on_exit.map((r) => ({
            ...(r.on_exit_code !== undefined ? { onExitCode: r.on_exit_code } : {}),
            ...(r.on_reason !== undefined ? { onReason: r.on_reason } : {}),
            action: r.action,
          })),
        }
      : {}),
  };
}

/** The policy a run's attempts are decided by: its snapshot over the server's policy. */
export function runPolicy(run: Pick<RunRecord, 'placement'>, base: RetryPolicy): RetryPolicy {
  return policyWith(base, runRetryStrategy(run));
}
