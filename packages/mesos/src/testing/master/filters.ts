import type { Resources } from '../model/resources.js';

/**
 * Offer filters of the hierarchical allocator (spec §1.4 "Filters"): a DECLINE, or the unused
 * rest of an ACCEPT, refuses those resources of that agent to that framework and role for
 * `refuse_seconds`. Only offers whose resources are contained in the refused set are held back,
 * so when more resources free up on the agent it is offered again at the next allocation.
 */

/** Mesos' default `Filters.refuse_seconds`. */
export const DEFAULT_REFUSE_SECONDS = 5;
/** The cap Mesos applies: 365 days. */
export const MAX_REFUSE_SECONDS = 365 * 24 * 3600;

/**
 * How long a filter lasts in milliseconds, or 0 for no filter:
 * missing / not a number / negative → 5 s; above 365 days → 365 days; 0 → none;
 * otherwise at least one allocation interval (a filter never expires before the next allocation).
 */
export function filterDurationMs(refuseSeconds: unknown, allocationIntervalMs: number): number {
  const given = typeof refuseSeconds === 'string' ? Number(refuseSeconds) : refuseSeconds;
  let seconds =
    typeof given === 'number' && !Number.isNaN(given) && given >= 0 ? given : DEFAULT_REFUSE_SECONDS;
  if (seconds > MAX_REFUSE_SECONDS) seconds = MAX_REFUSE_SECONDS;
  if (seconds === 0) return 0;
  return Math.max(allocationIntervalMs, seconds * 1000);
}

/** One active filter, for inspection. */
export interface FilterSnapshot {
  readonly frameworkId: string;
  readonly role: string;
  readonly agentId: string;
  /** The refused resources in Mesos' text form. */
  readonly resources: string;
  /** Milliseconds since the epoch when it stops applying. */
  readonly expiresAt: number;
}

interface Filter {
  readonly resources: Resources;
  readonly expiresAt: number;
}

/** The filters of one allocator; keyed by framework, role and agent. */
export class OfferFilters {
  private readonly filters = new Map<string, Map<string, Filter[]>>();

  /** Adds a filter unless `durationMs` is 0 or the resources are empty. */
  add(
    frameworkId: string,
    role: string,
    agentId: string,
    resources: Resources,
    durationMs: number,
    now: number,
  ): void {
    if (durationMs <= 0 || resources.isEmpty()) return;
    let byKey = this.filters.get(frameworkId);
    if (byKey === undefined) {
      byKey = new Map();
      this.filters.set(frameworkId, byKey);
    }
    const key = `${role}\u0000${agentId}`;
    const list = byKey.get(key) ?? [];
    list.push({ resources: resources.clone(), expiresAt: now + durationMs });
    byKey.set(key, list);
  }

  /** True when an unexpired filter of (framework, role, agent) contains all of `candidate`. */
  isFiltered(frameworkId: string, role: string, agentId: string, candidate: Resources, now: number): boolean {
    const byKey = this.filters.get(frameworkId);
    if (byKey === undefined) return false;
    const key = `${role}\u0000${agentId}`;
    const list = byKey.get(key);
    if (list === undefined) return false;
    const live = list.filter((filter) => filter.expiresAt > now);
    if (live.length === 0) byKey.delete(key);
    else if (live.length !== list.length) byKey.set(key, live);
    return live.some((filter) => filter.resources.contains(candidate));
  }

  /** Removes the framework's filters for `roles` (all roles when undefined), as REVIVE does. */
  clear(frameworkId: string, roles?: readonly string[]): void {
    if (roles === undefined) {
      this.filters.delete(frameworkId);
      return;
    }
    const byKey = this.filters.get(frameworkId);
    if (byKey === undefined) return;
    for (const key of [...byKey.keys()]) {
      if (roles.includes(key.split('\u0000')[0] ?? '')) byKey.delete(key);
    }
  }

  /** Drops every filter (a new leader starts with a fresh allocator). */
  clearAll(): void {
    this.filters.clear();
  }

  /** The unexpired filters. */
  snapshot(now: number): FilterSnapshot[] {
    const out: FilterSnapshot[] = [];
    for (const [frameworkId, byKey] of this.filters) {
      for (const [key, list] of byKey) {
        const [role = '', agentId = ''] = key.split('\u0000');
        for (const filter of list) {
          if (filter.expiresAt > now) {
            out.push({
              frameworkId,
              role,
              agentId,
              resources: filter.resources.toMesosString(),
              expiresAt: filter.expiresAt,
            });
          }
        }
      }
    }
    return out;
  }
}
