/**
 * Change notifications between replicas (PostgreSQL LISTEN/NOTIFY). The store's writes of runs
 * and pipelines send them from inside the statement or transaction that makes the change, so a
 * notification goes out exactly when the change commits. Each names the replica that wrote it
 * (`origin`), so a replica ignores its own.
 *
 * Payloads are text (PostgreSQL's limit is 8000 bytes; run notices carry at most
 * RUNS_PER_NOTICE runs each):
 *   `r|<origin>|<run_id>:<version>,<run_id>:<version>…`   runs inserted or changed
 *   `p|<origin>|<pipeline_id>`                             a pipeline created or changed
 */

/** The channel every replica listens on. */
export const CHANGES_CHANNEL = 'galley_changes';

/** Runs per notification: ids are at most a few dozen characters, so a payload stays far below 8000 bytes. */
export const RUNS_PER_NOTICE = 64;

/** A change another replica made. */
export type ChangeNotice =
  | { kind: 'runs'; origin: string; runs: { runId: string; version: number }[] }
  | { kind: 'pipeline'; origin: string; pipelineId: string };

/** Reads a payload; null when it is not one of ours. */
export function parseNotice(payload: string): ChangeNotice | null {
  const first = payload.indexOf('|');
  const second = first < 0 ? -1 : payload.indexOf('|', first + 1);
  if (second < 0) return null;
  const kind = payload.slice(0, first);
  const origin = payload.slice(first + 1, second);
  const rest = payload.slice(second + 1);
  if (kind === 'p') return { kind: 'pipeline', origin, pipelineId: rest };
  if (kind !== 'r') return null;
  const runs: { runId: string; version: number }[] = [];
  for (const item of rest.split(',')) {
    const cut = item.lastIndexOf(':');
    if (cut <= 0) continue;
    const version = Number(item.slice(cut + 1));
    if (Number.isFinite(version)) runs.push({ runId: item.slice(0, cut), version });
  }
  return { kind: 'runs', origin, runs };
}

/** Where the store's writes send notifications from, and as which replica. */
export interface NotifyContext {
  /** The replica id written as `origin`. */
  origin: string;
}

/**
 * A CTE (`name AS (…)`) that notifies the runs of the CTE `source` (columns run_id, version), in
 * chunks of RUNS_PER_NOTICE. `originParam` is the `$n` holding the origin. A plain CTE only runs
 * when read: see `notifiedGate`.
 */
export function runNoticeCte(name: string, source: string, originParam: string): string {
  return `${name} AS (
    SELECT pg_notify('${CHANGES_CHANNEL}', 'r|' || ${originParam} || '|' || string_agg(run_id || ':' || version, ','))
    FROM (SELECT run_id, version, (row_number() OVER ()) / ${RUNS_PER_NOTICE} AS chunk FROM ${source}) s
    GROUP BY chunk)`;
}

/** A WHERE condition (always true) that makes the statement run the notifying CTE `name`. */
export function notifiedGate(name: string): string {
  return `(SELECT count(*) FROM ${name}) >= 0`;
}

/** The statement and parameters that notify a pipeline change. */
export function pipelineNotice(ctx: NotifyContext, pipelineId: string): { text: string; params: unknown[] } {
  return {
    text: `SELECT pg_notify('${CHANGES_CHANNEL}', 'p|' || $1 || '|' || $2)`,
    params: [ctx.origin, pipelineId],
  };
}
