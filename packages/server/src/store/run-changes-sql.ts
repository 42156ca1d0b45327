import { type Column, columnNames as names, unnestItems as unnest } from './multi-row.js';
import type { SqlQuerier } from './sql-client.js';
import type { AttemptRecord, NewRunEvent, RunRecord } from '../model/records.js';
import { type NotifyContext, notifiedGate, runNoticeCte } from './notify.js';
import { batchJson } from './rows.js';
import { type AttemptPatch, type Fence, type RunChange, StaleEpochError } from './store.js';

// Engine changes as multi-row statements (see multi-row.ts): a batch of changes costs one
// statement per table (runs, attempts, run_events), whatever its size, instead of three per
// change.

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

/** The run columns a run controller change sets (everything but what an execute fixed for good). */
const RUN_SET: Column<RunRecord>[] = [
  ['status', 'text', (r) => r.state.status],
  ['attempt_count', 'integer', (r) => r.state.attemptCount],
  ['attempt_id', 'text', (r) => r.state.attemptId],
  ['attempt_ids', 'jsonb', (r) => JSON.stringify(r.state.attemptIds)],
  ['exit_code', 'integer', (r) => r.state.exitCode],
  ['exit_reason', 'text', (r) => r.state.exitReason],
  ['queued_reason', 'text', (r) => r.state.queuedReason],
  ['started_at', 'bigint', (r) => r.state.startedAt],
  ['finished_at', 'bigint', (r) => r.state.finishedAt],
  ['stop_requested_at', 'bigint', (r) => r.state.stopRequestedAt],
  ['retry_at', 'bigint', (r) => r.state.retryAt],
  ['instance_id', 'text', (r) => r.host?.hostId ?? null],
  ['dns_name', 'text', (r) => r.host?.dnsName ?? null],
  ['run_exceptions', 'jsonb', (r) => json(r.runExceptions)],
  ['max_memory_used', 'integer', (r) => r.maxMemoryUsed],
  ['max_cpu_used', 'integer', (r) => r.maxCpuUsed],
  ['batch', 'jsonb', (r) => batchJson(r.batch)],
  ['version', 'bigint', (r) => r.version],
  ['updated_at', 'bigint', (r) => r.updatedAt],
];

/** A run change as the UPDATE sees it: the key, the version it must still have, the new row. */
interface RunRow {
  run: RunRecord;
  expected: number;
}

const RUN_ROW: Column<RunRow>[] = [
  ['run_id', 'text', (x) => x.run.runId],
  ['expected', 'bigint', (x) => x.expected],
  ...RUN_SET.map(([name, type, value]): Column<RunRow> => [name, type, (x) => value(x.run)]),
];

const ATTEMPT: Column<AttemptRecord>[] = [
  ['attempt_id', 'text', (a) => a.attemptId],
  ['run_id', 'text', (a) => a.runId],
  ['seq', 'integer', (a) => a.seq],
  ['cluster', 'text', (a) => a.cluster],
  ['node_id', 'text', (a) => a.nodeId],
  ['epoch', 'bigint', (a) => a.epoch],
  ['state', 'text', (a) => a.state],
  ['handle', 'jsonb', (a) => json(a.handle)],
  ['outcome', 'jsonb', (a) => json(a.outcome)],
  ['created_at', 'bigint', (a) => a.createdAt],
  ['launched_at', 'bigint', (a) => a.launchedAt],
  ['ended_at', 'bigint', (a) => a.endedAt],
];

/** An attempt patch with the run whose change brings it (empty for a patch on its own). */
interface PatchRow {
  runId: string;
  patch: AttemptPatch;
}

const PATCH: Column<PatchRow>[] = [
  ['run_id', 'text', (x) => x.runId],
  ['attempt_id', 'text', (x) => x.patch.attemptId],
  ['state', 'text', (x) => x.patch.state],
  ['handle', 'jsonb', (x) => json(x.patch.handle)],
  ['outcome', 'jsonb', (x) => json(x.patch.outcome)],
  ['launched_at', 'bigint', (x) => x.patch.launchedAt ?? null],
  ['ended_at', 'bigint', (x) => x.patch.endedAt ?? null],
];

const EVENT: Column<NewRunEvent>[] = [
  ['run_id', 'text', (e) => e.runId],
  ['at', 'bigint', (e) => e.at],
  ['type', 'text', (e) => e.type],
  ['status', 'text', (e) => e.status],
  ['attempt_id', 'text', (e) => e.attemptId],
  ['reason', 'text', (e) => e.reason],
];

/** Restricts a part of the change statement to the runs its UPDATE (`u`) stored. */
const storedOnly = (alias: string) => `${alias}.run_id IN (SELECT run_id FROM u)`;

function updateRunsSql(rows: readonly RunRow[], params: unknown[], fenced: string): string {
  const sets = RUN_SET.map(([name]) => `${name} = v.${name}`).join(', ');
  return `UPDATE runs r SET ${sets} FROM ${unnest('v', RUN_ROW, rows, params)}
    WHERE r.run_id = v.run_id AND r.version = v.expected${fenced} RETURNING r.run_id, r.version`;
}

function insertAttemptsSql(attempts: readonly AttemptRecord[], params: unknown[]): string {
  const columns = names(ATTEMPT).join(', ');
  return `INSERT INTO attempts (${columns}) SELECT ${names(ATTEMPT)
    .map((c) => `a.${c}`)
    .join(', ')}
    FROM ${unnest('a', ATTEMPT, attempts, params)} WHERE ${storedOnly('a')}`;
}

/**
 * An attempt's patch. `launched_at` is its first `running`: the adoption after a restart, a
 * reconciliation's TASK_RUNNING or an agent back from unreachable says `running` again, later.
 */
function patchAttemptsSql(patches: readonly PatchRow[], params: unknown[], inChange: boolean): string {
  return `UPDATE attempts t SET state = p.state, handle = COALESCE(p.handle, t.handle),
      outcome = COALESCE(p.outcome, t.outcome), launched_at = COALESCE(t.launched_at, p.launched_at),
      ended_at = COALESCE(p.ended_at, t.ended_at)
    FROM ${unnest('p', PATCH, patches, params)}
    WHERE t.attempt_id = p.attempt_id AND t.state <> 'ended'${inChange ? ` AND ${storedOnly('p')}` : ''}`;
}

function insertEventsSql(events: readonly NewRunEvent[], params: unknown[]): string {
  const columns = names(EVENT).join(', ');
  return `INSERT INTO run_events (${columns}) SELECT ${names(EVENT)
    .map((c) => `e.${c}`)
    .join(', ')}
    FROM ${unnest('e', EVENT, events, params)} WHERE ${storedOnly('e')} ORDER BY e.ord`;
}

/** The rows of a wave of changes (at most one change per run), by table. */
function rowsOf(wave: readonly RunChange[]) {
  const runs: RunRow[] = [];
  const inserts: AttemptRecord[] = [];
  const patches: PatchRow[] = [];
  const events: NewRunEvent[] = [];
  for (const change of wave) {
    runs.push({
      run: { ...change.run, version: change.expectedVersion + 1 },
      expected: change.expectedVersion,
    });
    const a = change.attempt;
    if (a && 'insert' in a) inserts.push(a.insert);
    else if (a) patches.push({ runId: change.run.runId, patch: a.patch });
    events.push(...change.events);
  }
  return { runs, inserts, patches, events };
}

/** The stored runs of a wave, in the order of the wave, from the ids the UPDATE returned. */
function storedRuns(runs: readonly RunRow[], ids: readonly { run_id: string }[]): RunRecord[] {
  const stored = new Set(ids.map((r) => r.run_id));
  return runs.filter((x) => stored.has(x.run.runId)).map((x) => x.run);
}

/**
 * Splits `items` into waves in which each key appears at most once, keeping their order: the
 * k-th item of a key goes into wave k. Applying the waves one after the other is applying the
 * items one by one, since the items of one wave never touch the same row.
 */
export function waves<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const out: T[][] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    (out[n] ??= []).push(item);
  }
  return out;
}

/** What a statement of run changes also does: check a fence, notify the other replicas. */
export interface ChangeOptions {
  /** Store nothing (StaleEpochError) unless the lease still has this epoch. */
  fence?: Fence | undefined;
  /** Notify the stored runs (PostgreSQL with several replicas). */
  notify?: NotifyContext | undefined;
}

/**
 * Applies a wave of changes (each run at most once) as ONE statement, atomic on its own: the run
 * rows still at their expected version are updated, and only their attempt and timeline rows are
 * written. One round trip for PostgreSQL; for PGlite one statement also costs less than the
 * three per table it replaces inside a transaction. Answers the stored runs, in wave order.
 *
 * A fence is checked in the same statement: the lease row is read FOR SHARE (a replica taking
 * the lease waits for this statement's transaction), and no row is written unless its epoch is
 * the fence's. The stored runs are notified from the same statement, so at commit.
 */
export async function applyWave(
  db: SqlQuerier,
  wave: readonly RunChange[],
  options: ChangeOptions = {},
): Promise<RunRecord[]> {
  const { runs, inserts, patches, events } = rowsOf(wave);
  const params: unknown[] = [];
  const parts: string[] = [];
  let fenced = '';
  const { fence, notify } = options;
  if (fence) {
    params.push(fence.name, fence.epoch);
    parts.push(`f AS (SELECT epoch FROM leases WHERE name = $1 FOR SHARE)`);
    fenced = ' AND (SELECT epoch FROM f) = $2::bigint';
  }
  parts.push(`u AS (${updateRunsSql(runs, params, fenced)})`);
  if (inserts.length > 0) parts.push(`a AS (${insertAttemptsSql(inserts, params)})`);
  if (patches.length > 0) parts.push(`p AS (${patchAttemptsSql(patches, params, true)})`);
  if (events.length > 0) parts.push(`e AS (${insertEventsSql(events, params)})`);
  let gate = '';
  if (notify) {
    params.push(notify.origin);
    parts.push(runNoticeCte('n', 'u', `$${params.length}::text`));
    gate = ` WHERE ${notifiedGate('n')}`;
  }
  const tail = fence ? ` UNION ALL SELECT NULL, epoch FROM f` : '';
  const { rows } = await db.query<{ run_id: string | null; epoch?: unknown }>(
    `WITH ${parts.join(', ')} SELECT run_id${fence ? ', NULL::bigint AS epoch' : ''} FROM u${gate}${tail}`,
    params,
  );
  if (fence) {
    const current = rows.find((r) => r.run_id === null);
    const epoch = current ? Number(current.epoch) : null;
    if (epoch !== fence.epoch) throw new StaleEpochError(fence, epoch);
  }
  return storedRuns(
    runs,
    rows.filter((r): r is { run_id: string } => r.run_id !== null),
  );
}

/**
 * Changes attempt rows on their own (late events of attempts no longer current), one statement
 * per wave; an attempt that already ended keeps its row.
 */
export async function patchAttemptRows(db: SqlQuerier, patches: readonly AttemptPatch[]): Promise<void> {
  for (const wave of waves(patches, (p) => p.attemptId)) {
    const params: unknown[] = [];
    const rows = wave.map((patch) => ({ runId: '', patch }));
    await db.query(patchAttemptsSql(rows, params, false), params);
  }
}
