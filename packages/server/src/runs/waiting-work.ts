import type { Logger } from 'pino';
import type { Backend } from '../backends/backend.js';
import type { GroupEvent, GroupLaunch } from '../backends/group-runner.js';
import { launchDemand } from '../backends/launch-shape.js';
import type { RunRecord } from '../model/records.js';
import { WaitingLaunches } from './waiting-launches.js';
import { WaitingRuns } from './waiting-runs.js';

/** Receives what becomes of waiting pipeline launches (`waiting`, or killed before placement). */
export type GroupEventListener = (cluster: string, events: GroupEvent[]) => Promise<void>;

/**
 * The work waiting for each backend's capacity, and the report of it the backends get.
 *
 * Two kinds of work wait: queued runs (followed from the stream of stored run changes, see
 * WaitingRuns) and pipeline launches the pipeline controller submitted (held here in memory, see
 * WaitingLaunches). A backend with offer hygiene (Mesos: SUPPRESS a role with nothing waiting,
 * REVIVE one that got new work) is told what waits by role, once per turn of the event loop however
 * many changes it brought, so a burst of executes makes one report and not thousands.
 *
 * It lives apart from the dispatch round because it changes between rounds (each stored change,
 * each submit) and because followers keep it too: a replica that takes over reports at once.
 */
export class WaitingWork {
  private readonly byCluster: Map<string, Backend>;
  /** Pipeline launches waiting for placement (submitted by the pipeline controller). */
  private readonly launches = new WaitingLaunches();
  /** Queued runs by role, per cluster (for the backends' offer hygiene). */
  private readonly waitingRuns = new Map<string, WaitingRuns>();
  /** Roles of each cluster that got new work since the backend was last told. */
  private readonly newWork = new Map<string, Set<string>>();
  private reportQueued = false;
  private groupListener: GroupEventListener = async () => {};
  private pendingGroupEvents: { cluster: string; event: GroupEvent }[] = [];

  constructor(
    private readonly backends: readonly Backend[],
    private readonly logger: Logger,
  ) {
    this.byCluster = new Map(backends.map((b) => [b.cluster, b]));
    this.forgetRuns();
  }

  /** Registers the one listener for what becomes of waiting launches. */
  onGroupEvents(listener: GroupEventListener): void {
    this.groupListener = listener;
  }

  /** Queues pipeline launches for placement on `cluster`; true when one was new (worth a round). */
  submit(cluster: string, launches: readonly GroupLaunch[]): boolean {
    const backend = this.byCluster.get(cluster);
    if (!backend) return false;
    let added = false;
    for (const launch of launches)
      if (this.launches.add(cluster, launch)) {
        added = true;
        this.noteNewWork(cluster, launchRoleOf(backend, launch));
      }
    return added;
  }

  /** The pipeline launches waiting on `cluster`, oldest first. */
  launchesOn(cluster: string): GroupLaunch[] {
    return this.launches.list(cluster);
  }

  /**
   * What the pipeline launches waiting for placement on `cluster` ask for, by role: cpus, memory
   * (MB, the default executor's included where the backend adds it) and how many.
   */
  launchDemand(cluster: string): Map<string, { cpus: number; memMb: number; count: number }> {
    const out = new Map<string, { cpus: number; memMb: number; count: number }>();
    const backend = this.byCluster.get(cluster);
    if (!backend) return out;
    for (const l of this.launches.list(cluster)) {
      const role = launchRoleOf(backend, l);
      const d = launchDemand(l.spec, l.launchId, l.queuedAt, backend.placement.groupExecutor, role);
      const sum = out.get(role) ?? { cpus: 0, memMb: 0, count: 0 };
      out.set(role, { cpus: sum.cpus + d.cpus, memMb: sum.memMb + d.memMb, count: sum.count + 1 });
    }
    return out;
  }

  /**
   * Drops a launch still waiting for placement: its processes end as TASK_KILLED (reported as
   * group events). False when it is not waiting (it was handed to its backend, or is unknown).
   */
  withdraw(launchId: string, at: number): boolean {
    const taken = this.launches.take(launchId);
    if (!taken) return false;
    for (const process of Object.keys(taken.launch.spec.processes))
      this.emitGroup(taken.cluster, {
        type: 'process-ended',
        launchId,
        process,
        at,
        end: {
          state: 'TASK_KILLED',
          exitCode: null,
          message: 'stopped before it started',
          hostFailure: false,
        },
      });
    this.scheduleReport();
    return true;
  }

  /**
   * Records why a launch still waits after a round, and tells the pipeline controller when the
   * reason is new. With nothing offered (Mesos offers come and go) the reason a real round gave is kept.
   */
  noteWaiting(cluster: string, launchId: string, reason: string, at: number, nothingOffered: boolean): void {
    if (nothingOffered && this.launches.hasReason(launchId)) return;
    if (this.launches.noteReason(launchId, reason))
      this.emitGroup(cluster, { type: 'waiting', launchId, at, reason });
  }

  /**
   * Takes out the launches a round placed, to hand them to the backend. A launch withdrawn (stopped)
   * while the round stored its steps is no longer here and is left out.
   */
  takePlaced<G extends { launch: GroupLaunch }>(groups: readonly G[]): G[] {
    const taken = groups.filter((g) => this.launches.take(g.launch.launchId) !== undefined);
    if (taken.length > 0) this.scheduleReport();
    return taken;
  }

  /** Follows one stored run change (queued runs are work waiting for offers). */
  observe(run: RunRecord): void {
    const waiting = this.waitingRuns.get(run.cluster);
    const backend = this.byCluster.get(run.cluster);
    if (!waiting || !backend?.waiting) return;
    const change = waiting.observe(run);
    if (change === null) return;
    if (change !== 'changed') this.noteNewWork(run.cluster, change.newWork);
    else this.scheduleReport();
  }

  /** Clusters whose backend wants the report (and so needs the queued runs loaded at takeover). */
  clustersWithHygiene(): string[] {
    return this.backends.filter((b) => b.waiting !== undefined).map((b) => b.cluster);
  }

  /** Tells every backend what waits for it now. */
  reportAll(): void {
    for (const backend of this.backends) this.report(backend);
  }

  /** A term ended: waiting launches are dropped (the pipeline controller submits them anew) and runs re-read. */
  clear(): void {
    for (const launch of this.backends.flatMap((b) => this.launches.list(b.cluster)))
      this.launches.take(launch.launchId);
    this.forgetRuns();
    this.newWork.clear();
  }

  private forgetRuns(): void {
    for (const b of this.backends) this.waitingRuns.set(b.cluster, new WaitingRuns(b.cluster, mainRoleOf(b)));
  }

  private noteNewWork(cluster: string, role: string): void {
    let roles = this.newWork.get(cluster);
    if (!roles) this.newWork.set(cluster, (roles = new Set()));
    roles.add(role);
    this.scheduleReport();
  }

  /** Tells the backends what waits, once for all the changes of this turn of the event loop. */
  private scheduleReport(): void {
    if (this.reportQueued) return;
    this.reportQueued = true;
    queueMicrotask(() => {
      this.reportQueued = false;
      this.reportAll();
    });
  }

  private report(backend: Backend): void {
    if (!backend.waiting) return;
    const byRole = new Map(this.waitingRuns.get(backend.cluster)?.byRole() ?? []);
    for (const [role, n] of this.launches.countByRole(backend.cluster, (l) => launchRoleOf(backend, l)))
      byRole.set(role, (byRole.get(role) ?? 0) + n);
    const newWork = this.newWork.get(backend.cluster) ?? new Set<string>();
    this.newWork.delete(backend.cluster);
    backend.waiting({ byRole, newWork });
  }

  /** Group events of waiting launches go out in batches, after the current step. */
  private emitGroup(cluster: string, event: GroupEvent): void {
    this.pendingGroupEvents.push({ cluster, event });
    if (this.pendingGroupEvents.length > 1) return;
    setImmediate(() => {
      const batch = this.pendingGroupEvents;
      this.pendingGroupEvents = [];
      const byCluster = new Map<string, GroupEvent[]>();
      for (const { cluster: c, event: e } of batch) {
        const list = byCluster.get(c);
        if (list) list.push(e);
        else byCluster.set(c, [e]);
      }
      for (const [c, events] of byCluster)
        this.groupListener(c, events).catch((err: unknown) =>
          this.logger.warn({ err, events: events.length }, 'runs: pipeline launch events were not stored'),
        );
    });
  }
}

/** The role of queued runs that name none on `backend` (its framework's first role). */
function mainRoleOf(backend: Backend): string {
  return backend.roles?.[0] ?? '*';
}

/** The role a pipeline launch waits for on `backend`. */
function launchRoleOf(backend: Backend, launch: GroupLaunch): string {
  return launch.spec.roles[0] ?? backend.defaultRole ?? mainRoleOf(backend);
}
