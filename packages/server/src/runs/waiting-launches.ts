import type { GroupLaunch } from '../backends/group-runner.js';

/** One pipeline launch waiting for placement. */
interface Waiting {
  cluster: string;
  launch: GroupLaunch;
  /** The last reason reported for it; null = none yet. */
  reason: string | null;
}

/**
 * The pipeline launches waiting to be placed, per cluster. The pipeline controller records a
 * launch and submits it here; the run controller's dispatch round places the waiting launches
 * together with the queued runs and takes out the ones it hands to the backend. In memory only:
 * after a restart the pipeline controller finds unplaced launches again (the backend answers them
 * `absent`) and submits them anew.
 */
export class WaitingLaunches {
  private readonly byId = new Map<string, Waiting>();

  /** Adds a launch; false when it already waits. */
  add(cluster: string, launch: GroupLaunch): boolean {
    if (this.byId.has(launch.launchId)) return false;
    this.byId.set(launch.launchId, { cluster, launch, reason: null });
    return true;
  }

  /** The launches waiting on `cluster`, oldest first. */
  list(cluster: string): GroupLaunch[] {
    const out: GroupLaunch[] = [];
    for (const w of this.byId.values()) if (w.cluster === cluster) out.push(w.launch);
    return out.sort((a, b) => a.queuedAt - b.queuedAt);
  }

  /** Removes a launch and answers it; undefined when it was not waiting. */
  take(launchId: string): { cluster: string; launch: GroupLaunch } | undefined {
    const w = this.byId.get(launchId);
    if (!w) return undefined;
    this.byId.delete(launchId);
    return { cluster: w.cluster, launch: w.launch };
  }

  /** Records why a launch waits; true when the reason is new (worth reporting). */
  noteReason(launchId: string, reason: string): boolean {
    const w = this.byId.get(launchId);
    if (!w || w.reason === reason) return false;
    w.reason = reason;
    return true;
  }

  /** Whether a reason was ever reported for the launch. */
  hasReason(launchId: string): boolean {
    return (this.byId.get(launchId)?.reason ?? null) !== null;
  }

  /** How many launches wait on `cluster`, by the role `roleOf` gives each. */
  countByRole(cluster: string, roleOf: (launch: GroupLaunch) => string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const w of this.byId.values()) {
      if (w.cluster !== cluster) continue;
      const role = roleOf(w.launch);
      counts.set(role, (counts.get(role) ?? 0) + 1);
    }
    return counts;
  }
}
