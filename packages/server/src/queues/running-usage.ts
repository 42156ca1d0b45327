import { DEFAULT_QUEUE, RunningTotals, type WorkShape } from '@galley/core';
import type { RunRecord } from '../model/records.js';
import type { RunFeed } from '../runs/feed.js';
import type { SqlQuerier } from '../store/sql-client.js';
import { openArrays, runningOn, type RunningShape } from './queues-sql.js';

/** A full re-read of a cluster's runs holding capacity at least this often (ms), whatever the feed said. */
const REBUILD_EVERY_MS = 30_000;
/** A cluster's array parents are re-read at least this often (ms) even when none is known to be open. */
const ARRAYS_EVERY_MS = 5_000;
/** Versions of runs that left a cluster's running set, remembered against late publishes of older ones. */
const GONE_REMEMBERED = 10_000;

/** What a dispatch round reads of a cluster's runs holding capacity (PENDING or RUNNING). */
export interface ClusterRunning {
  /** Their sums per owner, group, array and queue (kept as runs start and end). */
  readonly totals: RunningTotals;
  /** The runs of an array's children holding capacity. */
  childrenOf(array: string): Iterable<string>;
}

/** One cluster's runs holding capacity (PENDING or RUNNING), as the dispatch round last knew them. */
interface ClusterUsage extends ClusterRunning {
  byId: Map<string, RunningShape>;
  /** Array children holding capacity, by array. */
  byArray: Map<string, Set<string>>;
  /** Runs that left the set and at which version: an older publish of them is stale. */
  gone: Map<string, number>;
  builtAt: number;
  /** The leadership epoch it was read under: a new term reads it again. */
  epoch: number | undefined;
}

/** One cluster's array parents, as far as the feed tells: whether one may be open. */
interface ClusterArrays {
  /** False after a read found none and no parent was published since. */
  maybeOpen: boolean;
  readAt: number;
  /** Array parents published (counted): a read that saw none is trusted only if none came meanwhile. */
  published: number;
}

const holdsCapacity = (run: RunRecord) => run.state.status === 'PENDING' || run.state.status === 'RUNNING';

function shapeOf(run: RunRecord): RunningShape {
  return { ...workShapeOf(run), runId: run.runId, version: run.version };
}

/** What fair share and the limits count of a run: its queue, owner, group, array and resources. */
export function workShapeOf(run: RunRecord): WorkShape {
  return {
    queue: run.batch?.queue ?? DEFAULT_QUEUE,
    owner: run.ownerId,
    group: run.groupName,
    array: run.batch?.parentId,
    cpus: run.cpu / 1000,
    memMb: run.memory,
  };
}

/**
 * One copy of each queue, owner, group and array id the counted shapes hold: each run read from
 * the store or the feed brings fresh copies, and 100,000 runs in flight share a few dozen values
 * (their copies were 11 MB of the heap). Emptied when it grows past a bound.
 */
const STRINGS_KEPT = 10_000;
const strings = new Map<string, string>();
function interned(s: string): string {
  const known = strings.get(s);
  if (known !== undefined) return known;
  if (strings.size >= STRINGS_KEPT) strings.clear();
  strings.set(s, s);
  return s;
}

/** Counts a run holding capacity (its sums and its array's children). */
function count(u: ClusterUsage, r: RunningShape): void {
  r.queue = interned(r.queue);
  r.owner = interned(r.owner);
  r.group = interned(r.group);
  if (r.array !== undefined) r.array = interned(r.array);
  u.byId.set(r.runId, r);
  u.totals.add(r);
  if (r.array === undefined) return;
  let children = u.byArray.get(r.array);
  if (!children) u.byArray.set(r.array, (children = new Set()));
  children.add(r.runId);
}

/** Uncounts a run counted with `r` (the shape it was counted with). */
function uncount(u: ClusterUsage, r: RunningShape): void {
  u.byId.delete(r.runId);
  u.totals.remove(r);
  if (r.array === undefined) return;
  const children = u.byArray.get(r.array);
  children?.delete(r.runId);
  if (children?.size === 0) u.byArray.delete(r.array);
}

/**
 * What the queue gate needs each dispatch round besides the queued runs — the runs holding
 * capacity on a cluster (fair share and limits count them) and whether any array parent is open
 * — kept in memory from the run feed instead of read from the store every round: on PGlite, which
 * runs one statement at a time, those two reads were a third of the round's time.
 *
 * Only the leader moves a run to PENDING, RUNNING or out of them, in its run controller's serial
 * loop, and publishes each change into the feed after it is stored; the dispatch round that asks
 * runs in the same loop. So a read made in a round is current, and publishes keep it current
 * after. Versions guard against late publishes of older records (a follower's change read back).
 * The set is read again at a new leadership epoch and every REBUILD_EVERY_MS anyway; the array
 * parents are read while one may be open, and every ARRAYS_EVERY_MS anyway.
 */
export class RunningUsage {
  private readonly usage = new Map<string, ClusterUsage>();
  private readonly arrays = new Map<string, ClusterArrays>();

  constructor(
    private readonly db: () => SqlQuerier,
    feed: RunFeed | undefined,
  ) {
    feed?.subscribe((run) => this.observe(run));
  }

  /**
   * The runs holding capacity on `cluster` now (read from the store when not known or too old):
   * their sums, kept as the feed publishes their starts and ends — a round costs nothing per run
   * in flight. A run is counted once (by id) and removed once, with the shape it was counted with.
   */
  async running(cluster: string, now: number, epoch: number | undefined): Promise<ClusterRunning> {
    let u = this.usage.get(cluster);
    if (!u || u.epoch !== epoch || now - u.builtAt >= REBUILD_EVERY_MS) {
      // Read in the dispatch round (see the class doc): nothing published meanwhile changes the set.
      const rows = await runningOn(this.db(), cluster);
      const byArray = new Map<string, Set<string>>();
      u = {
        byId: new Map(),
        byArray,
        totals: new RunningTotals(),
        childrenOf: (array) => byArray.get(array) ?? [],
        gone: new Map(),
        builtAt: now,
        epoch,
      };
      for (const r of rows) count(u, r);
      this.usage.set(cluster, u);
    }
    return u;
  }

  /** The open array parents of `cluster`: none without a read while none can be open. */
  async openArrays(cluster: string, now: number): Promise<RunRecord[]> {
    const a = this.arraysOf(cluster);
    if (!a.maybeOpen && now - a.readAt < ARRAYS_EVERY_MS) return [];
    const published = a.published;
    const parents = await openArrays(this.db(), cluster);
    a.readAt = now;
    a.maybeOpen = parents.length > 0 || a.published !== published;
    return parents;
  }

  /** Forgets everything known (the next round reads it again). */
  reset(): void {
    this.usage.clear();
    this.arrays.clear();
  }

  private arraysOf(cluster: string): ClusterArrays {
    let a = this.arrays.get(cluster);
    if (!a) this.arrays.set(cluster, (a = { maybeOpen: true, readAt: -Infinity, published: 0 }));
    return a;
  }

  private observe(run: RunRecord): void {
    if (run.batch?.kind === 'array' && run.state.status === 'QUEUED') {
      const a = this.arraysOf(run.cluster);
      a.published++;
      a.maybeOpen = true;
    }
    const u = this.usage.get(run.cluster);
    if (!u) return;
    const known = u.byId.get(run.runId);
    if (known && known.version > run.version) return;
    if (holdsCapacity(run)) {
      if (!known && (u.gone.get(run.runId) ?? -1) >= run.version) return;
      if (known) uncount(u, known);
      count(u, shapeOf(run));
      return;
    }
    if (!known) return;
    uncount(u, known);
    u.gone.set(run.runId, run.version);
    if (u.gone.size > GONE_REMEMBERED) u.gone.delete(u.gone.keys().next().value!);
  }
}
