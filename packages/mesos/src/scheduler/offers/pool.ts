import {
  cloneEntry,
  fromMillis,
  isEntryEmpty,
  resourceOf,
  toEntries,
  toMillis,
  withQuantity,
} from './entries.js';
import type { ResourceEntry } from './entries.js';
import { isPlainQuantity, isReserved } from './kind.js';
import type { Offer, Resource } from '../../types/index.js';
import {
  describeShortfalls,
  scalarNeeds,
  type Allocation,
  type FitResult,
  type ResourceNeeds,
} from './needs.js';
import type { Shortfall } from './needs.js';
import {
  chooseDynamicPorts,
  entryWithPort,
  freePorts,
  removeRun,
  runsToRanges,
  type PortRun,
} from './ports.js';

/** Thrown when offers that cannot go into one ACCEPT are put into one pool. */
export class OfferMismatchError extends Error {
  /** Stable code: the offers are of different agents, different roles, or repeated. */
  readonly code = 'OFFER_MISMATCH' as const;
  constructor(message: string) {
    super(message);
    this.name = 'OfferMismatchError';
  }
}

/** Options of a pool. */
export interface PoolOptions {
  /** Uniform random number in [0, 1); picks where dynamic ports start. Default `Math.random`. */
  random?: () => number;
}

/**
 * The resources of one or several offers of ONE agent and ONE role (spec §6.3), from which tasks
 * and executors are cut one after another. Allocations are all-or-nothing and never overlap: a
 * port, a set item or a scalar thousandth is handed out at most once. Reserved resources are
 * used before unreserved ones.
 */
export class ResourcePool {
  /** The agent all offers belong to. */
  readonly agentId: string;
  /** The role the offers were allocated to (`allocation_info.role`), `undefined` without MULTI_ROLE. */
  readonly role: string | undefined;
  /** The offers the pool was built from, in the given order. */
  readonly offers: readonly Offer[];
  private readonly entries: ResourceEntry[];
  private readonly byName = new Map<string, ResourceEntry[]>();
  /** `candidates` by name, then by `candidateSlot(type, revocable)`. */
  private readonly candidateCache = new Map<string, (ResourceEntry[] | undefined)[]>();
  private readonly executors: Set<string>;
  private readonly random: () => number;

  /** Throws `OfferMismatchError` for an empty list, repeated offers, or mixed agents or roles. */
  constructor(offers: readonly Offer[], options: PoolOptions = {}) {
    const first = offers[0];
    if (first === undefined) throw new OfferMismatchError('a resource pool needs at least one offer');
    this.agentId = first.agent_id.value;
    this.role = offerRole(first);
    const ids = new Set<string>();
    for (const offer of offers) {
      if (offer.agent_id.value !== this.agentId) {
        throw new OfferMismatchError(
          `offer ${offer.id.value} is for agent ${offer.agent_id.value}, not ${this.agentId}`,
        );
      }
      if (offerRole(offer) !== this.role) {
        throw new OfferMismatchError(
          `offer ${offer.id.value} is for role ${String(offerRole(offer))}, not ${String(this.role)}`,
        );
      }
      if (ids.has(offer.id.value)) throw new OfferMismatchError(`offer ${offer.id.value} is repeated`);
      ids.add(offer.id.value);
    }
    this.offers = [...offers];
    const all = toEntries(offers.flatMap((o) => o.resources ?? [])).map(cloneEntry);
    this.entries = [
      ...all.filter((e) => isReserved(e.template)),
      ...all.filter((e) => !isReserved(e.template)),
    ];
    for (const e of this.entries) {
      let list = this.byName.get(e.template.name);
      if (list === undefined) this.byName.set(e.template.name, (list = []));
      list.push(e);
    }
    this.executors = new Set(offers.flatMap((o) => (o.executor_ids ?? []).map((id) => id.value)));
    this.random = options.random ?? Math.random;
  }

  /**
   * Takes `needs` from the pool. On success the resources are gone from the pool and returned
   * with the source entries' metadata; on failure nothing is taken and the shortfalls say why.
   */
  allocate(needs: ResourceNeeds): FitResult {
    const result = this.allocateAll([needs]);
    return result.ok ? (result.allocations[0] as Allocation) : result;
  }

  /**
   * Takes several needs at once (e.g. a task group and its executor), all or nothing. The
   * allocations are returned in the order of `needsList`.
   */
  allocateAll(
    needsList: readonly ResourceNeeds[],
  ): { ok: true; allocations: Allocation[] } | (FitResult & { ok: false }) {
    const shortfalls = this.check(needsList);
    if (shortfalls.length > 0) return { ok: false, reason: describeShortfalls(shortfalls), shortfalls };
    // Fixed ports of every need first, so no dynamic pick can take one of them.
    const fixed = needsList.map((needs) => this.takeFixedPorts(needs));
    const allocations = needsList.map((needs, i) => this.take(needs, fixed[i] as PortRun[]));
    return { ok: true, allocations };
  }

  /** True when an executor with this id runs on the agent or was launched from this pool already. */
  hasExecutor(executorId: string): boolean {
    return this.executors.has(executorId);
  }

  /** Records that an executor is being launched from this pool (its resources must not be taken twice). */
  addExecutor(executorId: string): void {
    this.executors.add(executorId);
  }

  /** What is left, one Resource per kind, with the offered metadata. */
  remaining(): Resource[] {
    return this.entries.filter((e) => !isEntryEmpty(e)).map(resourceOf);
  }

  /** What is left of scalar `name` over all usable (plain, non-revocable) kinds, in Mesos units. */
  available(name: string, revocable = false): number {
    let millis = 0;
    for (const e of this.candidates(name, 'SCALAR', revocable)) millis += e.millis;
    return fromMillis(millis);
  }

  /** What `needsList` lacks, all needs together; empty when everything fits. Reads only. */
  private check(needsList: readonly ResourceNeeds[]): Shortfall[] {
    const scalars = new Map<string, { name: string; revocable: boolean; millis: number }>();
    const sets = new Map<string, { name: string; revocable: boolean; items: string[] }>();
    const ports = new Map<boolean, { fixed: number[]; dynamic: number }>();
    for (const needs of needsList) {
      const revocable = needs.revocable === true;
      for (const [name, amount] of scalarNeeds(needs)) {
        const key = `${name}\u0000${revocable}`;
        const s = scalars.get(key) ?? { name, revocable, millis: 0 };
        s.millis += toMillis(amount);
        scalars.set(key, s);
      }
      if (needs.sets !== undefined) {
        for (const [name, items] of Object.entries(needs.sets)) {
          const key = `${name}\u0000${revocable}`;
          const s = sets.get(key) ?? { name, revocable, items: [] };
          s.items.push(...items);
          sets.set(key, s);
        }
      }
      if ((needs.fixedPorts?.length ?? 0) > 0 || (needs.ports ?? 0) > 0) {
        const p = ports.get(revocable) ?? { fixed: [], dynamic: 0 };
        p.fixed.push(...(needs.fixedPorts ?? []));
        p.dynamic += needs.ports ?? 0;
        ports.set(revocable, p);
      }
    }
    const shortfalls: Shortfall[] = [];
    for (const { name, revocable, millis } of scalars.values()) {
      let available = 0;
      for (const e of this.candidates(name, 'SCALAR', revocable)) available += e.millis;
      if (available < millis)
        shortfalls.push({ name, needed: fromMillis(millis), available: fromMillis(available) });
    }
    for (const { name, revocable, items } of sets.values()) {
      const have = new Set(this.candidates(name, 'SET', revocable).flatMap((e) => e.items));
      const seen = new Set<string>();
      const missing = items.filter((item) => {
        const bad = !have.has(item) || seen.has(item);
        seen.add(item);
        return bad;
      });
      if (missing.length > 0) shortfalls.push({ name, needed: items.length, available: have.size, missing });
    }
    for (const [revocable, { fixed, dynamic }] of ports) {
      const entries = this.candidates('ports', 'RANGES', revocable);
      const free = freePorts(entries);
      const seen = new Set<number>();
      const missing = fixed.filter((port) => {
        const bad = seen.has(port) || entryWithPort(entries, port) === undefined;
        seen.add(port);
        return bad;
      });
      if (missing.length > 0)
        shortfalls.push({ name: 'ports', needed: fixed.length, available: free, missing });
      else if (free - fixed.length < dynamic) {
        shortfalls.push({ name: 'ports', needed: dynamic, available: free - fixed.length });
      }
    }
    return shortfalls;
  }

  private takeFixedPorts(needs: ResourceNeeds): PortRun[] {
    const entries = this.candidates('ports', 'RANGES', needs.revocable === true);
    const runs: PortRun[] = [];
    for (const port of needs.fixedPorts ?? []) {
      const entry = entryWithPort(entries, port) as ResourceEntry;
      removeRun(entry.ranges, port, port);
      runs.push({ entry, begin: port, end: port });
    }
    return runs;
  }

  /** Cuts one need from the pool; `check` has made sure it fits. */
  private take(needs: ResourceNeeds, fixed: PortRun[]): Allocation {
    const revocable = needs.revocable === true;
    const resources: Resource[] = [];
    this.takeScalar('cpus', needs.cpus, revocable, resources);
    this.takeScalar('mem', needs.mem, revocable, resources);
    this.takeScalar('disk', needs.disk, revocable, resources);
    this.takeScalar('gpus', needs.gpus, revocable, resources);
    if (needs.scalars !== undefined) {
      for (const [name, amount] of Object.entries(needs.scalars))
        this.takeScalar(name, amount, revocable, resources);
    }
    if (needs.sets !== undefined) {
      for (const [name, items] of Object.entries(needs.sets)) this.takeSet(name, items, revocable, resources);
    }
    const count = needs.ports ?? 0;
    const ports = fixed.map((run) => run.begin);
    const runs = [...fixed];
    if (count > 0) {
      const entries = this.candidates('ports', 'RANGES', revocable);
      const dynamic = chooseDynamicPorts(entries, count, this.random, freePorts(entries));
      for (const run of dynamic) removeRun(run.entry.ranges, run.begin, run.end);
      const picked: number[] = [];
      for (const run of dynamic) for (let p = run.begin; p <= run.end; p++) picked.push(p);
      ports.push(...picked.sort((a, b) => a - b));
      runs.push(...dynamic);
    }
    const byEntry = new Map<ResourceEntry, PortRun[]>();
    for (const run of runs) {
      const list = byEntry.get(run.entry);
      if (list === undefined) byEntry.set(run.entry, [run]);
      else list.push(run);
    }
    for (const [entry, list] of byEntry) {
      resources.push(withQuantity(entry.template, { type: 'RANGES', ranges: runsToRanges(list) }));
    }
    return { ok: true, resources, ports };
  }

  /** Takes `amount` (Mesos units; none when undefined or ≤ 0) of scalar `name`, as `scalarNeeds` lists them. */
  private takeScalar(name: string, amount: number | undefined, revocable: boolean, out: Resource[]): void {
    if (amount === undefined || !(amount > 0)) return;
    let left = toMillis(amount);
    for (const e of this.candidates(name, 'SCALAR', revocable)) {
      if (left === 0) break;
      const t = Math.min(e.millis, left);
      if (t <= 0) continue;
      e.millis -= t;
      left -= t;
      out.push(withQuantity(e.template, { type: 'SCALAR', millis: t }));
    }
  }

  private takeSet(name: string, items: readonly string[], revocable: boolean, out: Resource[]): void {
    const taken = new Map<ResourceEntry, string[]>();
    for (const item of items) {
      const e = this.candidates(name, 'SET', revocable).find((c) => c.items.includes(item)) as ResourceEntry;
      e.items = e.items.filter((i) => i !== item);
      const list = taken.get(e);
      if (list === undefined) taken.set(e, [item]);
      else list.push(item);
    }
    for (const [e, list] of taken) out.push(withQuantity(e.template, { type: 'SET', items: list }));
  }

  /** The plain entries usable for a need of `name`/`type`, reserved first (cached: membership never changes). */
  private candidates(name: string, type: Resource['type'], revocable: boolean): ResourceEntry[] {
    let slots = this.candidateCache.get(name);
    if (slots === undefined) this.candidateCache.set(name, (slots = []));
    const slot = candidateSlot(type, revocable);
    let list = slots[slot];
    if (list === undefined) {
      list = (this.byName.get(name) ?? []).filter(
        (e) =>
          e.type === type &&
          isPlainQuantity(e.template) &&
          (e.template.revocable !== undefined) === revocable,
      );
      slots[slot] = list;
    }
    return list;
  }
}

/** Where `candidates` of one name keep the list for a type and revocability. */
function candidateSlot(type: Resource['type'], revocable: boolean): number {
  const base = type === 'SCALAR' ? 0 : type === 'RANGES' ? 2 : type === 'SET' ? 4 : 6;
  return revocable ? base + 1 : base;
}

/** The role an offer was allocated to, from `allocation_info` (MULTI_ROLE) or its resources. */
export function offerRole(offer: Offer): string | undefined {
  return offer.allocation_info?.role ?? offer.resources?.[0]?.allocation_info?.role;
}
