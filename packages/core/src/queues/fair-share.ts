/**
 * Queues, priorities and fair share: in which order the queued runs of a cluster are offered to
 * placement, and which runs are held back (with the reason a user reads in `queued_reason`).
 *
 * - Queues go by `priority`, higher first: every candidate of a higher queue comes before any
 *   candidate of a lower one. Queues of equal priority share: their owners take turns together.
 * - Within a queue, owners take turns by **dominant resource fairness** (DRF, Ghodsi et al. 2011):
 *   the next candidate comes from the owner whose dominant share — the larger of its CPU share
 *   and its memory share of the cluster's total — is the smallest, counting what the owner runs
 *   now plus what this ordering already put ahead of it (progressive filling). DRF rather than
 *   weighted round robin because runs differ in size: round robin counts runs, so an owner of
 *   16-CPU runs would get 16 times the cluster of an owner of 1-CPU runs; DRF equalises what each
 *   owner actually holds of the resource it uses most, and with one resource it is max-min
 *   fairness. Ties (equal shares, as when every owner's runs just ended) go to the owner served
 *   least recently (`lastServed`), so owners alternate even when only one run fits at a time —
 *   without it the oldest backlog would win every tie and a flood would still starve the rest.
 * - Within an owner, oldest first (queued_at, then id).
 * - Limits are never exceeded, counting running work plus the candidates ordered before: per
 *   owner concurrency and quotas (cpus, memory) of the queue, per group concurrency (the
 *   definition's group), and the parallelism of an array. A candidate that would exceed one is
 *   held with the reason; an owner at its concurrency has all its candidates held.
 *
 * Cost: one heap of owners per queue, O(k log owners) for k candidates taken; {@link FairQueue}
 * keeps the owners' backlogs between rounds so a round of 100,000 queued runs does not re-sort,
 * and {@link RunningTotals} keeps the sums of the running work so a round does not re-add them.
 */
import { MinHeap } from '../heap.js';
import { RunningTotals, type Usage, type WorkShape } from './running-totals.js';

export type { WorkShape } from './running-totals.js';

/** A queue as configured. Absent limits = none. */
export interface QueueSpec {
  name: string;
  /** Higher first. */
  priority: number;
  /** Most runs one owner runs at once in this queue. */
  ownerConcurrency?: number;
  /** Most runs of one group (the definition's group) running at once in this queue. */
  groupConcurrency?: number;
  /** Most CPUs one owner holds at once in this queue. */
  ownerCpus?: number;
  /** Most memory (MB) one owner holds at once in this queue. */
  ownerMemMb?: number;
}

/** A queued run to order. */
export interface QueuedWork extends WorkShape {
  id: string;
  queuedAt: number;
}

/** What the ordering needs besides the candidates. */
export interface OrderContext {
  queues: readonly QueueSpec[];
  /** Runs holding capacity now (PENDING or RUNNING); ignored when `totals` is given. */
  running?: readonly WorkShape[];
  /** The sums of the runs holding capacity now, kept as they start and end (instead of `running`). */
  totals?: RunningTotals;
  /** Parallelism of each array (parent id → most children running at once). */
  arrays?: ReadonlyMap<string, number>;
  /** The cluster's total capacity: dominant shares are fractions of it. */
  total: { cpus: number; memMb: number };
  /** When each owner (`ownerKey`) was last served (any increasing number); absent = never. */
  lastServed?: ReadonlyMap<string, number>;
  /**
   * The free capacity: ordering stops once the candidates ordered ask for FILL_SLACK times it
   * (placement has nothing to gain from more). Absent = order up to the limit.
   */
  fill?: { cpus: number; memMb: number };
}

/** How much more than the free capacity `fill` orders (room for candidates that do not fit where it is free). */
export const FILL_SLACK = 1.5;

/** The ordering: candidates in the order to place them, and the held ones with why. */
export interface OrderResult {
  order: string[];
  held: { id: string; reason: string }[];
  /**
   * For candidates whose owner already holds more than an equal share of its queue: what to say
   * if placement leaves them waiting ("waiting for its share: …").
   */
  shareNotes: Map<string, string>;
}

/** The queue runs go to when they name none; it always exists. */
export const DEFAULT_QUEUE = 'default';

/** The spec of a queue nobody configured (the default queue, or one removed after runs chose it). */
export function defaultQueueSpec(name: string = DEFAULT_QUEUE): QueueSpec {
  return { name, priority: 0 };
}

/** The key of an owner within a queue (shares, lastServed). */
export function ownerKey(queue: string, owner: string): string {
  return `${queue}\u0000${owner}`;
}

/** Queues in the order they are served: higher priority first, then by name. */
export function compareQueues(a: QueueSpec, b: QueueSpec): number {
  return b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

const byAge = (a: QueuedWork, b: QueuedWork): number =>
  a.queuedAt - b.queuedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * A round's usage of owners, groups or arrays: the running totals plus the candidates ordered so
 * far, copying only the entries the round adds to (not every owner's).
 */
class Tally {
  private readonly mine = new Map<string, Usage>();
  constructor(private readonly base: (key: string) => Usage | undefined) {}
  get(key: string): Usage | undefined {
    return this.mine.get(key) ?? this.base(key);
  }
  add(key: string, w: { cpus: number; memMb: number }): void {
    let u = this.mine.get(key);
    if (!u) this.mine.set(key, (u = { ...(this.base(key) ?? { runs: 0, cpus: 0, memMb: 0 }) }));
    u.runs++;
    u.cpus += w.cpus;
    u.memMb += w.memMb;
  }
}

const fmt = (n: number) => String(Math.round(n * 1000) / 1000);
const plural = (n: number, word: string) => `${fmt(n)} ${word}${n === 1 ? '' : 's'}`;

/** One owner's backlog in one queue: its candidates, oldest first, and a cursor past the taken ones. */
class Backlog {
  items: QueuedWork[] = [];
  head = 0;
  sorted = true;
  constructor(
    readonly key: string,
    readonly queue: string,
    readonly owner: string,
  ) {}
  push(w: QueuedWork): void {
    const last = this.items[this.items.length - 1];
    if (last && byAge(last, w) > 0) this.sorted = false;
    this.items.push(w);
  }
  prepare(gone: ReadonlySet<string>): void {
    if (!this.sorted) {
      this.items = this.items.slice(this.head).sort(byAge);
      this.head = 0;
      this.sorted = true;
    }
    while (this.head < this.items.length && gone.has(this.items[this.head]!.id)) this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  get size(): number {
    return this.items.length - this.head;
  }
}

/** An owner in a round's heap: its dominant share and when it was last served. */
interface Turn {
  backlog: Backlog;
  share: number;
  served: number;
  /** Index of the next candidate of its backlog to look at. */
  at: number;
}

const turnBefore = (a: Turn, b: Turn): boolean =>
  a.share !== b.share
    ? a.share < b.share
    : a.served !== b.served
      ? a.served < b.served
      : a.backlog.owner < b.backlog.owner;

/**
 * The queued runs of a cluster, kept by owner between rounds: `add` new ones, `remove` the ones
 * that left the queue (dispatched, stopped), and `order` the first `limit` candidates for a round.
 */
export class FairQueue {
  private readonly backlogs = new Map<string, Backlog>();
  private readonly byQueue = new Map<string, Backlog[]>();
  private readonly ids = new Map<string, Backlog>();
  private readonly gone = new Set<string>();

  /** How many runs it holds. */
  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(w: QueuedWork): void {
    if (this.ids.has(w.id)) return;
    const key = ownerKey(w.queue, w.owner);
    let b = this.backlogs.get(key);
    if (!b) {
      b = new Backlog(key, w.queue, w.owner);
      this.backlogs.set(key, b);
      const list = this.byQueue.get(w.queue);
      if (list) list.push(b);
      else this.byQueue.set(w.queue, [b]);
    }
    b.push(w);
    this.ids.set(w.id, b);
    this.gone.delete(w.id);
  }

  remove(id: string): void {
    const b = this.ids.get(id);
    if (!b) return;
    this.ids.delete(id);
    this.gone.add(id);
    if (b.items.length - b.head > 0 && b.items[b.head]!.id === id) b.prepare(this.gone);
    if (this.ids.size === 0) this.clear();
  }

  private clear(): void {
    this.backlogs.clear();
    this.byQueue.clear();
    this.gone.clear();
  }

  /**
   * The first `limit` candidates in fair order (and the held runs met on the way, at most
   * `limit` of them). Pure with respect to the queue: nothing is removed.
   */
  order(ctx: OrderContext, limit = Infinity): OrderResult {
    const result: OrderResult = { order: [], held: [], shareNotes: new Map() };
    const specs = new Map(ctx.queues.map((q) => [q.name, q]));
    const totals = ctx.totals ?? RunningTotals.of(ctx.running ?? []);
    const owners = new Tally((k) => totals.owner(k));
    const groups = new Tally((k) => totals.group(k));
    const arrays = new Tally((k) => totals.array(k));
    const queueNames = [...this.byQueue.keys()].filter((q) => this.byQueue.get(q)!.some((b) => b.size > 0));
    const queues = queueNames.map((n) => specs.get(n) ?? defaultQueueSpec(n)).sort(compareQueues);
    const dominant = (u: Usage | undefined): number =>
      u === undefined
        ? 0
        : Math.max(
            ctx.total.cpus > 0 ? u.cpus / ctx.total.cpus : 0,
            ctx.total.memMb > 0 ? u.memMb / ctx.total.memMb : 0,
          );
    // Enough candidates to fill the free capacity (with room for what does not fit where it is free).
    const demand = { cpus: 0, memMb: 0 };
    const fill = ctx.fill;
    const budget = () =>
      result.order.length < limit &&
      (fill === undefined ||
        result.order.length === 0 ||
        (demand.cpus < fill.cpus * FILL_SLACK && demand.memMb < fill.memMb * FILL_SLACK));
    // Queues of one priority share by DRF between all their owners; a higher priority goes first.
    const levels: QueueSpec[][] = [];
    for (const spec of queues) {
      const level = levels[levels.length - 1];
      if (level && level[0]!.priority === spec.priority) level.push(spec);
      else levels.push([spec]);
    }
    for (const level of levels) {
      if (!budget()) break;
      const backlogs = level.flatMap((spec) =>
        this.byQueue.get(spec.name)!.filter((b) => {
          b.prepare(this.gone);
          return b.size > 0;
        }),
      );
      // Owners of each queue: running there, or with a backlog there.
      const active = new Map<string, number>();
      for (const spec of level) active.set(spec.name, totals.ownersIn(spec.name).size);
      for (const b of backlogs)
        if (!totals.ownersIn(b.queue).has(b.owner)) active.set(b.queue, active.get(b.queue)! + 1);
      const specOf = new Map(level.map((q) => [q.name, q]));
      const heap = new MinHeap(turnBefore);
      for (const backlog of backlogs) {
        const u = owners.get(backlog.key);
        heap.push({
          backlog,
          share: dominant(u),
          served: ctx.lastServed?.get(backlog.key) ?? -Infinity,
          at: backlog.head,
        });
      }
      let seq = 0;
      for (let turn = heap.pop(); turn && budget(); turn = heap.pop()) {
        const { backlog } = turn;
        const spec = specOf.get(backlog.queue)!;
        const before = owners.get(backlog.key);
        let taken: QueuedWork | undefined;
        for (; turn.at < backlog.items.length && !taken; turn.at++) {
          const w = backlog.items[turn.at]!;
          if (this.gone.has(w.id)) continue;
          const reason = this.limitReached(spec, w, before, groups, arrays, ctx.arrays);
          if (reason === 'owner') {
            // At its concurrency: every later run of the owner waits too.
            for (let i = turn.at; i < backlog.items.length && result.held.length < limit; i++) {
              const held = backlog.items[i]!;
              if (!this.gone.has(held.id))
                result.held.push({
                  id: held.id,
                  reason: `queue ${spec.name}: owner ${w.owner} concurrency ${spec.ownerConcurrency} reached`,
                });
            }
            turn.at = backlog.items.length;
            break;
          }
          if (reason !== null) {
            if (result.held.length < limit) result.held.push({ id: w.id, reason });
            continue;
          }
          taken = w;
        }
        if (!taken) continue;
        const note = this.shareNote(spec.name, taken.owner, before, active.get(spec.name)!, ctx);
        if (note) result.shareNotes.set(taken.id, note);
        result.order.push(taken.id);
        demand.cpus += taken.cpus;
        demand.memMb += taken.memMb;
        owners.add(backlog.key, taken);
        groups.add(ownerKey(spec.name, taken.group), taken);
        if (taken.array !== undefined) arrays.add(taken.array, taken);
        turn.share = dominant(owners.get(backlog.key));
        turn.served = Number.MAX_SAFE_INTEGER / 2 + ++seq; // after everyone not yet served this round
        if (turn.at < backlog.items.length) heap.push(turn);
      }
    }
    return result;
  }

  /** Why `w` must wait for a limit (`owner` = the owner's concurrency), or null. */
  private limitReached(
    spec: QueueSpec,
    w: QueuedWork,
    owner: Usage | undefined,
    groups: Tally,
    arrays: Tally,
    parallelism: ReadonlyMap<string, number> | undefined,
  ): string | null | 'owner' {
    if (spec.ownerConcurrency !== undefined && (owner?.runs ?? 0) >= spec.ownerConcurrency) return 'owner';
    if (w.array !== undefined) {
      const p = parallelism?.get(w.array);
      const n = arrays.get(w.array)?.runs ?? 0;
      if (p !== undefined && n >= p) return `array ${w.array}: parallelism ${p} reached (${n} running)`;
    }
    if (spec.ownerCpus !== undefined && (owner?.cpus ?? 0) + w.cpus > spec.ownerCpus + 1e-9)
      return `queue ${spec.name}: owner ${w.owner} uses ${fmt(owner?.cpus ?? 0)} of ${plural(spec.ownerCpus, 'CPU')} (its quota); this run needs ${fmt(w.cpus)}`;
    if (spec.ownerMemMb !== undefined && (owner?.memMb ?? 0) + w.memMb > spec.ownerMemMb)
      return `queue ${spec.name}: owner ${w.owner} uses ${fmt(owner?.memMb ?? 0)} of ${fmt(spec.ownerMemMb)} MB memory (its quota); this run needs ${fmt(w.memMb)}`;
    if (spec.groupConcurrency !== undefined && w.group !== '') {
      const g = groups.get(ownerKey(spec.name, w.group))?.runs ?? 0;
      if (g >= spec.groupConcurrency)
        return `queue ${spec.name}: group ${w.group} concurrency ${spec.groupConcurrency} reached`;
    }
    return null;
  }

  /** What to say of a candidate whose owner holds more than an equal share of the cluster. */
  private shareNote(
    queue: string,
    owner: string,
    usage: Usage | undefined,
    owners: number,
    ctx: OrderContext,
  ): string | undefined {
    if (!usage || owners < 2) return undefined;
    const cpuShare = ctx.total.cpus > 0 ? usage.cpus / ctx.total.cpus : 0;
    const memShare = ctx.total.memMb > 0 ? usage.memMb / ctx.total.memMb : 0;
    if (Math.max(cpuShare, memShare) < 1 / owners) return undefined;
    const what =
      cpuShare >= memShare
        ? `${fmt(usage.cpus)} of ${plural(ctx.total.cpus, 'CPU')}`
        : `${fmt(usage.memMb)} of ${fmt(ctx.total.memMb)} MB memory`;
    return `waiting for its share: owner ${owner} uses ${what}, ${owners} owners share queue ${queue}`;
  }
}

/**
 * The fair order of `queued` (see the module doc): pure, and the same answer for the same input
 * in any order.
 */
export function orderQueued(queued: readonly QueuedWork[], ctx: OrderContext): OrderResult {
  const q = new FairQueue();
  for (const w of [...queued].sort(byAge)) q.add(w);
  return q.order(ctx);
}
