import {
  DEFAULT_QUEUE,
  FairQueue,
  ownerKey,
  type Node,
  type QueuedWork,
  type RetryPolicy,
} from '@galley/core';
import type { Logger } from 'pino';
import type { NewRunEvent, RunRecord } from '../model/records.js';
import { applyEvent, type Step } from '../runs/changes.js';
import { runFromRow } from '../store/rows.js';
import type { SqlClient } from '../store/sql-client.js';
import type { RunRepository } from '../store/store.js';
import type { RunFeed } from '../runs/feed.js';
import { childCounts, childrenOf, listQueues, type ChildCounts, type QueueRecord } from './queues-sql.js';
import { RunningUsage, workShapeOf, type ClusterRunning } from './running-usage.js';

/** What the dispatch round hands placement, decided by the queue gate (see QueueGate). */
export interface QueueOrder {
  /** Queued runs to place, in fair order (array parents and waiting runs left out). */
  runs: RunRecord[];
  /** Runs held back this round, with why (dependencies, limits). */
  held: { run: RunRecord; reason: string }[];
  /** For ordered runs whose owner holds more than its share: the reason if placement leaves them waiting. */
  shareNotes: ReadonlyMap<string, string>;
  /** Changes to store with the round: dependants failed, children of stopped arrays stopped, arrays ended. */
  steps: Step[];
}

/** What the gate needs of the server. */
export interface QueueGateOptions {
  /** The store; its SQL client (the SQL store's `sql`) reads queues and usage. */
  store: Pick<RunRepository, 'getRuns'>;
  logger: Logger;
  /** Asks for another dispatch round (after a round that ended runs others wait for). */
  wake: () => void;
  /** How long a read of the queue configuration is used (ms; default 1000). */
  configTtlMs?: number;
  /** The run controller's queued-run batch: a full batch makes the gate add each owner's oldest runs. */
  batchSize?: number;
  /** Stored run changes: a stopped array parent has its children stopped at once. */
  feed?: RunFeed;
  /** Stops a run (the run controller's stop). */
  stop?: (runId: string, reason: string) => Promise<unknown>;
}

/** The round's context; `epoch`: the leadership epoch it runs in (a new one re-reads what is kept). */
type Ctx = { policy: RetryPolicy; random: () => number; now: number; epoch?: number };

/** Owners' oldest runs added to a full batch, per (queue, owner). */
const HEADS_PER_OWNER = 4;
/** A round after a run stopped while queued, once the queue view reads from the head again (ms). */
const WAKE_AFTER_STOP_MS = 1_100;
/** Least time between two reads of the owners' oldest runs of a cluster (ms). */
const HEADS_EVERY_MS = 1_000;

/** How a dependency stands: met, failed (with why), or not yet. */
type DependencyState = { met: true } | { met: false; failed: string | null };

/** The end of a run as the reason of a dependant's failure. */
function describeEnd(run: RunRecord): string {
  const s = run.state;
  if (s.exitCode !== null) return `exit ${s.exitCode}`;
  return s.exitReason ?? 'stopped';
}

/** Whether `dep` (its record now; undefined = gone) meets `condition`. */
function dependencyState(dep: RunRecord | undefined, condition: 'succeeded' | 'ended'): DependencyState {
  if (!dep) return { met: false, failed: 'it no longer exists' };
  if (dep.state.status !== 'STOPPED') return { met: false, failed: null };
  if (condition === 'ended' || dep.state.exitCode === 0) return { met: true };
  return { met: false, failed: describeEnd(dep) };
}

/**
 * The queue gate of the dispatch round: before placement it ends array parents whose children
 * all ended, fails runs whose dependency cannot be met any more (cascading within the round),
 * stops children of stopped arrays, holds runs waiting for dependencies, and orders the rest by
 * queue priority and fair share (core FairQueue, with each owner's last dispatch remembered so
 * owners alternate). Everything it decides is level-triggered from the store: after a restart the
 * next round derives the same.
 */
export class QueueGate {
  private queues: QueueRecord[] = [];
  private queuesReadAt = -Infinity;
  private readonly lastServed = new Map<string, Map<string, number>>();
  private served = 0;

  /** The store's SQL client; undefined = a store without one: runs go oldest first, as before queues. */
  private readonly sql: SqlClient | undefined;

  private wakeTimer: NodeJS.Timeout | null = null;
  /** When each cluster's owners' oldest runs were last read. */
  private readonly headsReadAt = new Map<string, number>();
  /** Array parents whose children are being stopped by this replica. */
  private readonly stopping = new Set<string>();
  /** The runs holding capacity and whether array parents are open, per cluster, kept from the feed. */
  private readonly usage: RunningUsage;

  constructor(private readonly o: QueueGateOptions) {
    this.sql = (o.store as { sql?: SqlClient }).sql;
    this.usage = new RunningUsage(() => this.db, o.feed);
    o.feed?.subscribe((run) => this.observe(run));
  }

  /**
   * A stopped array parent: its children are stopped now (queued ones at once, running ones
   * killed) rather than at the next dispatch round, which also does it (after a restart).
   */
  private observe(run: RunRecord): void {
    // A run stopped before it ran ends no attempt, which is what wakes the dispatch round: runs
    // waiting for it are looked at once the round reads the queue from its head again (≤ 1 s).
    // (After the last such stop: a round sooner may still read from where the last one stopped.)
    if (run.state.status === 'STOPPED' && run.state.attemptCount === 0) {
      if (this.wakeTimer) clearTimeout(this.wakeTimer);
      this.wakeTimer = setTimeout(() => {
        this.wakeTimer = null;
        this.o.wake();
      }, WAKE_AFTER_STOP_MS).unref();
    }
    const stop = this.o.stop;
    if (!stop || !this.sql || run.batch?.kind !== 'array' || this.stopping.has(run.runId)) return;
    if (run.state.status !== 'STOPPED' || run.state.stopRequestedAt === null) return;
    this.stopping.add(run.runId);
    void (async () => {
      const reason = `array ${run.runId} was stopped`;
      for (let offset = 0; ; offset += 1000) {
        const page = await childrenOf(this.db, run.runId, 1000, offset);
        for (const child of page.items) if (child.state.status !== 'STOPPED') await stop(child.runId, reason);
        if (page.items.length < 1000) break;
      }
    })()
      .catch((err: unknown) =>
        this.o.logger.warn(
          { err, runId: run.runId },
          "queues: an array's children were not all stopped; the dispatch round goes on",
        ),
      )
      .finally(() => this.stopping.delete(run.runId));
  }

  private get db(): SqlClient {
    return this.sql!;
  }

  /** Forgets the cached queue configuration (a queue was changed through this replica). */
  invalidate(): void {
    this.queuesReadAt = -Infinity;
  }

  /** The configured queues (cached for `configTtlMs`). */
  async config(now: number): Promise<QueueRecord[]> {
    if (now - this.queuesReadAt >= (this.o.configTtlMs ?? 1_000)) {
      this.queues = await listQueues(this.db);
      this.queuesReadAt = now;
    }
    return this.queues;
  }

  /** Decides the round's queue (see the class doc). */
  async prepare(
    cluster: string,
    read: readonly RunRecord[],
    nodes: readonly Node[],
    ctx: Ctx,
  ): Promise<QueueOrder | undefined> {
    if (!this.sql) return undefined;
    const queued = await this.withOwnerHeads(cluster, read, ctx.now);
    const running = await this.usage.running(cluster, ctx.now, ctx.epoch);
    const steps: Step[] = [];
    const now = new Map<string, RunRecord>(); // records as this round leaves them
    await this.endArrays(cluster, ctx, steps, now);

    const parentIds = new Set<string>();
    const depIds = new Set<string>();
    for (const r of queued) {
      if (r.batch?.parentId) parentIds.add(r.batch.parentId);
      for (const d of r.batch?.dependsOn ?? []) depIds.add(d.runId);
    }
    for (const array of running.totals.arrayIds()) parentIds.add(array);
    const wanted = [...new Set([...parentIds, ...depIds])].filter((id) => !now.has(id));
    const known = new Map((await this.o.store.getRuns(wanted)).map((r) => [r.runId, r]));
    for (const [id, r] of now) known.set(id, r);
    const stopped = (id: string | undefined) => {
      const p = id === undefined ? undefined : known.get(id);
      return p !== undefined && p.state.status === 'STOPPED' && p.state.stopRequestedAt !== null;
    };

    // Running children of a stopped array are stopped (their attempts killed).
    const runningStopped: string[] = [];
    for (const array of running.totals.arrayIds())
      if (stopped(array)) runningStopped.push(...running.childrenOf(array));
    if (runningStopped.length > 0)
      for (const child of await this.o.store.getRuns(runningStopped)) {
        const step = applyEvent(
          child,
          { type: 'stop-requested', at: ctx.now, reason: `array ${child.batch?.parentId} was stopped` },
          ctx,
        );
        if (step) steps.push(step);
      }

    // Queued runs: stopped with their array, failed with a dependency (cascading), or held.
    const waiting = new Map<string, string>();
    let pending = queued.filter((r) => r.batch?.kind !== 'array');
    for (let changed = true; changed;) {
      changed = false;
      const next: RunRecord[] = [];
      for (const run of pending) {
        const end = this.endOf(run, known, stopped);
        if (end === null) {
          next.push(run);
          continue;
        }
        if ('wait' in end) {
          waiting.set(run.runId, end.wait);
          next.push(run);
          continue;
        }
        const step = applyEvent(run, { type: 'stop-requested', at: ctx.now, reason: end.fail }, ctx);
        if (!step) continue;
        steps.push(step);
        known.set(run.runId, step.change.run);
        changed = true;
      }
      pending = next;
    }

    const runnable = pending.filter((r) => !waiting.has(r.runId));
    const order = this.order(cluster, runnable, running, nodes, await this.config(ctx.now));
    const byId = new Map(runnable.map((r) => [r.runId, r]));
    const held = [
      ...pending.filter((r) => waiting.has(r.runId)).map((run) => ({ run, reason: waiting.get(run.runId)! })),
      ...order.held.map((h) => ({ run: byId.get(h.id)!, reason: h.reason })),
    ];
    if (steps.length > 0) setImmediate(() => this.o.wake());
    return { runs: order.order.map((id) => byId.get(id)!), held, shareNotes: order.shareNotes, steps };
  }

  /** Remembers whom the round served: ties of equal shares go to the owner served least recently. */
  dispatched(cluster: string, runs: readonly RunRecord[]): void {
    let served = this.lastServed.get(cluster);
    if (!served) this.lastServed.set(cluster, (served = new Map()));
    for (const r of runs)
      if (r.state.status === 'PENDING')
        served.set(ownerKey(r.batch?.queue ?? DEFAULT_QUEUE, r.ownerId), ++this.served);
  }

  /** What becomes of a queued run this round: null = it may run; wait (why); fail (why). */
  private endOf(
    run: RunRecord,
    known: ReadonlyMap<string, RunRecord>,
    stopped: (id: string | undefined) => boolean,
  ): null | { wait: string } | { fail: string } {
    const b = run.batch;
    if (!b) return null;
    if (b.parentId !== undefined && stopped(b.parentId)) return { fail: `array ${b.parentId} was stopped` };
    let wait: string | null = null;
    for (const d of b.dependsOn ?? []) {
      const state = dependencyState(known.get(d.runId), d.condition);
      if (state.met) continue;
      if (state.failed !== null) return { fail: `dependency ${d.runId} failed (${state.failed})` };
      wait ??= `waiting for run ${d.runId} to ${d.condition === 'succeeded' ? 'succeed' : 'end'}`;
    }
    return wait === null ? null : { wait };
  }

  /** The fair order of the runnable runs. */
  private order(
    cluster: string,
    runnable: readonly RunRecord[],
    running: ClusterRunning,
    nodes: readonly Node[],
    queues: readonly QueueRecord[],
  ) {
    const q = new FairQueue();
    const arrays = new Map<string, number>();
    for (const r of runnable) {
      q.add(workOf(r));
      const p = r.batch?.arrayParallelism;
      if (r.batch?.parentId !== undefined && p !== undefined) arrays.set(r.batch.parentId, p);
    }
    const total = { cpus: 0, memMb: 0 };
    for (const n of nodes) {
      total.cpus += n.free.cpus;
      total.memMb += n.free.memMb;
    }
    const held = running.totals.total;
    total.cpus += held.cpus;
    total.memMb += held.memMb;
    return q.order({
      queues,
      totals: running.totals,
      arrays,
      total,
      lastServed: this.lastServed.get(cluster) ?? new Map(),
    });
  }

  /**
   * Ends array parents whose children all ended (succeeded when all did), once: the store's
   * version check refuses a second end. Others get their progress as their queued reason.
   */
  private async endArrays(
    cluster: string,
    ctx: Ctx,
    steps: Step[],
    now: Map<string, RunRecord>,
  ): Promise<void> {
    const parents = await this.usage.openArrays(cluster, ctx.now);
    if (parents.length === 0) return;
    const counts = await childCounts(
      this.db,
      parents.map((p) => p.runId),
    );
    for (const parent of parents) {
      const c = counts.get(parent.runId)!;
      const size = parent.batch?.arraySize ?? 0;
      const ended = c.succeeded + c.failed;
      if (ended < size) {
        const progress = describeProgress(c, size);
        if (parent.state.queuedReason === progress) continue;
        const step = applyEvent(parent, { type: 'unplaceable', at: ctx.now, reason: progress }, ctx);
        if (!step) continue;
        step.change.run.batch = { ...parent.batch!, arrayCounts: c };
        steps.push(step);
        continue;
      }
      const ok = c.failed === 0;
      const reason = ok ? null : `${c.failed} of ${size} children failed`;
      const next: RunRecord = {
        ...parent,
        state: {
          ...parent.state,
          status: 'STOPPED',
          exitCode: ok ? 0 : 1,
          exitReason: reason,
          queuedReason: null,
          finishedAt: ctx.now,
        },
        batch: { ...parent.batch!, arrayCounts: c },
        updatedAt: ctx.now,
      };
      const event: NewRunEvent = {
        runId: parent.runId,
        at: ctx.now,
        type: 'ended',
        status: 'STOPPED',
        attemptId: null,
        reason: reason ?? `all ${size} children succeeded`,
      };
      steps.push({ change: { run: next, expectedVersion: parent.version, events: [event] }, effects: [] });
      now.set(parent.runId, next);
    }
  }

  /** A full batch hides owners behind a flood: each owner's oldest runs join it. */
  private async withOwnerHeads(
    cluster: string,
    read: readonly RunRecord[],
    now: number,
  ): Promise<readonly RunRecord[]> {
    if (read.length < (this.o.batchSize ?? 256)) return read;
    // It reads the whole backlog: at most once a second per cluster (rounds come with every end).
    if (now - (this.headsReadAt.get(cluster) ?? -Infinity) < HEADS_EVERY_MS) return read;
    this.headsReadAt.set(cluster, now);
    const { rows } = await this.db.query(
      `SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY queue, owner_id ORDER BY queued_at, run_id) AS rk
                        FROM runs WHERE status = 'QUEUED' AND cluster = $1) t
        WHERE rk <= $2`,
      [cluster, HEADS_PER_OWNER],
    );
    const seen = new Set(read.map((r) => r.runId));
    return [...read, ...rows.map(runFromRow).filter((r) => !seen.has(r.runId))];
  }
}

/** An array's progress, as its queued reason. */
export function describeProgress(c: ChildCounts, size: number): string {
  return `array of ${size}: ${c.running} running, ${c.queued} queued, ${c.succeeded} succeeded, ${c.failed} failed`;
}

/** A run as the ordering sees it. */
function workOf(r: RunRecord): QueuedWork {
  return { ...workShapeOf(r), id: r.runId, queuedAt: r.state.queuedAt };
}
