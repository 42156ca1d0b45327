import {
  MesosHttpError,
  SchedulerError,
  type MesosScheduler,
  type Offer,
  type OfferHygiene,
} from '@galley/mesos';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { MesosSettings } from '../../config/mesos-settings.js';
import type { BackendEvent, LaunchBatch, LaunchSpec, PlacedGroupLaunch } from '../backend.js';
import type { AttemptTable, TrackedTask } from './attempts.js';
import { addLaunchGroup } from './groups-task-info.js';
import type { ImageSupport } from './images.js';
import { launchFailed, planLaunches } from './launch-plan.js';
import type { MesosGroups } from './mesos-groups.js';
import { groupOffers, parseNodeId } from './nodes.js';
import type { OfferSweeper } from './offer-sweeper.js';
import type { SharedExecutors } from './shared-executor.js';
import type { TaskShape } from './task-info.js';

/** What launching needs of the backend: its framework, tables, offers and settings. */
export interface LauncherOptions {
  settings: MesosSettings;
  clock: Clock;
  logger: Logger;
  random: (() => number) | undefined;
  scheduler: () => MesosScheduler | null;
  table: AttemptTable;
  groups: MesosGroups;
  sweeper: OfferSweeper;
  hygiene: OfferHygiene;
  images: ImageSupport;
  /** The shared galley-executors; null = every run under its own command executor. */
  shared: SharedExecutors | null;
  /** The task shape as configured (containerizer resolved per agent here). */
  shape: TaskShape;
  /** Ended attempts (launches that failed), delivered like status updates. */
  deliver: (events: BackendEvent[]) => void;
  /** How much work waits for offers of a role. */
  waitingFor: (role: string) => number;
}

/**
 * Launching (spec §6.3): a dispatch round's runs and pipeline launches, grouped by agent and role,
 * go out as one ACCEPT per agent — a LAUNCH of the runs' tasks (under the agent's shared
 * galley-executor, or each under its own command executor) and a LAUNCH_GROUP per pipeline launch.
 * Everything is tracked before the ACCEPT is sent; what does not fit ends as a host failure.
 */
export class MesosLauncher {
  constructor(private readonly o: LauncherOptions) {}

  async launch(batch: LaunchBatch): Promise<void> {
    const s = this.o.scheduler();
    const held = s ? groupOffers(s.offers.values()) : new Map<string, Offer[]>();
    const byNode = new Map<string, { runs: LaunchSpec[]; groups: PlacedGroupLaunch[] }>();
    const on = (nodeId: string) => {
      let work = byNode.get(nodeId);
      if (!work) byNode.set(nodeId, (work = { runs: [], groups: [] }));
      return work;
    };
    for (const spec of batch.runs) on(spec.nodeId).runs.push(spec);
    for (const g of batch.groups) on(g.nodeId).groups.push(g);
    const failed: BackendEvent[] = [];
    const givenBack: string[] = [];
    const calls: Promise<void>[] = [];
    for (const [nodeId, work] of byNode) {
      const offers = held.get(nodeId);
      const node = parseNodeId(nodeId);
      if (!s || !offers || !node) {
        const why = 'the offers of the agent are gone (rescinded or disconnected)';
        for (const spec of work.runs) failed.push(launchFailed(spec.attemptId, this.o.clock.now(), why));
        givenBack.push(...work.groups.map((g) => g.launch.launchId));
        continue;
      }
      calls.push(this.acceptOn(s, { nodeId, ...node }, offers, work, failed));
    }
    if (failed.length > 0) this.o.deliver(failed);
    if (givenBack.length > 0) this.o.groups.giveBack(givenBack);
    await Promise.all(calls);
  }

  /**
   * The task shape on one agent: how its images are sent there (`images.ts`). A task group's
   * tasks can only take images in MESOS containers (the default executor's nested containers).
   */
  shapeFor(agentId: string, what: 'run' | 'group'): TaskShape {
    const shape = this.o.shape;
    const kind = this.o.images.kindFor(agentId);
    if (kind === null) return { ...shape, containerizer: 'none' };
    if (what === 'group' && shape.containerizer === 'auto' && kind !== 'mesos')
      return { ...shape, containerizer: 'none' };
    return { ...shape, containerizer: kind };
  }

  /**
   * One ACCEPT on the offers of one agent and role: a LAUNCH of the runs' command tasks and a
   * LAUNCH_GROUP per pipeline launch. Everything is tracked before the ACCEPT is sent.
   */
  private async acceptOn(
    s: MesosScheduler,
    node: { nodeId: string; agentId: string; role: string },
    offers: Offer[],
    work: { runs: readonly LaunchSpec[]; groups: readonly PlacedGroupLaunch[] },
    failed: BackendEvent[],
  ): Promise<void> {
    const { table, groups: pipelineGroups, sweeper } = this.o;
    const now = this.o.clock.now();
    const {
      plan,
      tracked,
      failed: unfit,
    } = planLaunches(
      offers,
      node.agentId,
      work.runs,
      this.shapeFor(node.agentId, 'run'),
      now,
      this.o.random,
      this.o.shared?.executorFor(node.agentId, node.role, offers),
    );
    failed.push(...unfit);
    for (const t of tracked) table.add(t);
    const hostname = offers[0]!.hostname;
    const groups: PlacedGroupLaunch[] = [];
    const unfitGroups: string[] = [];
    for (const g of work.groups) {
      const placement = { agentId: node.agentId, hostname, ports: g.ports };
      const added = addLaunchGroup(
        plan,
        g.launch,
        s.id ?? '',
        placement,
        this.shapeFor(node.agentId, 'group'),
      );
      if (!added.ok) {
        unfitGroups.push(g.launch.launchId);
        continue;
      }
      pipelineGroups.track(g.launch, node.agentId);
      groups.push(g);
    }
    if (unfitGroups.length > 0) pipelineGroups.giveBack(unfitGroups);
    for (const offer of offers) sweeper.forget(offer.id.value);
    // Leftovers come back soon while work still waits for this role; otherwise they stay filtered.
    const refuse = this.o.waitingFor(node.role) > 0 ? 0 : this.o.settings.refuseSeconds;
    try {
      if (plan.size === 0) {
        await s.decline(
          offers.map((o) => o.id),
          { refuse_seconds: refuse },
        );
      } else {
        const accept = plan.toAccept(refuse);
        await s.accept(accept.offer_ids, accept.operations, accept.filters);
      }
      if (refuse > 0) this.o.hygiene.noteDeclined(node.role);
      if (groups.length > 0) pipelineGroups.placed(groups, node.agentId, hostname);
    } catch (err) {
      this.acceptFailed(err, tracked, groups);
    }
  }

  /**
   * An ACCEPT that failed: if Mesos surely did not take it (not subscribed, or an HTTP error
   * answer), its run tasks end as host failures at once and its pipeline launches go back to be
   * placed again; if the answer was lost, they stay tracked and reconciliation tells whether they
   * were launched.
   */
  private acceptFailed(err: unknown, launched: TrackedTask[], groups: readonly PlacedGroupLaunch[]): void {
    const refused =
      (err instanceof SchedulerError && err.code === 'MESOS_NOT_SUBSCRIBED') || err instanceof MesosHttpError;
    this.o.logger.warn(
      { err, tasks: launched.length, groups: groups.length, refused },
      'mesos: ACCEPT failed',
    );
    if (!refused) return;
    const now = this.o.clock.now();
    for (const t of launched) this.o.table.remove(t.attemptId);
    this.o.deliver(launched.map((t) => launchFailed(t.attemptId, now, (err as Error).message)));
    if (groups.length > 0) this.o.groups.giveBack(groups.map((g) => g.launch.launchId));
  }
}
