import type { RunRecord } from '../model/records.js';

/**
 * The runs of one cluster waiting to be placed (QUEUED), by role: what a backend's offer hygiene
 * needs to decide SUPPRESS (a role with nothing waiting) and REVIVE (new work for a role). Kept by
 * the run controller from the stream of stored run changes, after an initial load from the store.
 */
export class WaitingRuns {
  private readonly roleOf = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly cluster: string,
    private readonly defaultRole: string,
  ) {}

  /** The role a run waits for offers of. */
  roleFor(run: RunRecord): string {
    return run.placement?.role ?? this.defaultRole;
  }

  /**
   * Follows one stored change. Answers the role when the run just started waiting (new work),
   * `changed` when it stopped waiting, or null when nothing changed for offer hygiene.
   */
  observe(run: RunRecord): { newWork: string } | 'changed' | null {
    if (run.cluster !== this.cluster) return null;
    const known = this.roleOf.get(run.runId);
    // An array parent is never launched: it waits for no offer.
    if (run.state.status === 'QUEUED' && run.batch?.kind !== 'array') {
      if (known !== undefined) return null;
      const role = this.roleFor(run);
      this.roleOf.set(run.runId, role);
      this.counts.set(role, (this.counts.get(role) ?? 0) + 1);
      return { newWork: role };
    }
    if (known === undefined) return null;
    this.roleOf.delete(run.runId);
    const left = (this.counts.get(known) ?? 1) - 1;
    if (left <= 0) this.counts.delete(known);
    else this.counts.set(known, left);
    return 'changed';
  }

  /** How many runs wait for `role`, by role. */
  byRole(): ReadonlyMap<string, number> {
    return this.counts;
  }

  /** How many runs wait in all. */
  get total(): number {
    return this.roleOf.size;
  }
}
