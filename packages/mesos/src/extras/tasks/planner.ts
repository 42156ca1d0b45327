import { type AcceptPayload, AcceptPlan, type OfferGroup, type OfferID } from '../../index.js';
import type { Instance, InstanceTable } from './instances.js';
import { newTaskId } from './naming.js';
import { buildTask, executorIdFor } from './task-info.js';

/** One launch decided by a round: which instance, as which task, where. */
export interface PlannedLaunch {
  instance: Instance;
  taskId: string;
  agentId: string;
  hostname: string;
  address: string;
  ports: number[];
}

/** An ACCEPT to send, with the launches it carries. */
export interface PlannedAccept {
  role: string | undefined;
  payload: AcceptPayload;
  launches: PlannedLaunch[];
}

/** The calls one offer round decided. */
export interface RoundPlan {
  accepts: PlannedAccept[];
  /** Offer groups nothing was launched from: decline with the refuse filter. */
  declines: { role: string | undefined; offerIds: OfferID[] }[];
}

/** Inputs of a round that are not state. */
export interface RoundContext {
  now: number;
  random: () => number;
  frameworkId: string;
  /** `filters.refuse_seconds` for ACCEPT leftovers. */
  refuseSeconds: number;
  /** True when the framework has MULTI_ROLE: then a spec only uses offers of its role. */
  multiRole: boolean;
}

/**
 * Decides what to launch from the offers held (spec §6.3): waiting instances whose backoff has
 * passed, by priority then name then serial, are packed into one ACCEPT per agent and role. A spec
 * whose next instance does not fit an agent is not tried further on that agent (its other
 * instances need the same), so a round costs O(agents × specs + launches). The waiting lists are
 * walked with cursors, never spliced while iterated. Marks the launched instances `launching`.
 */
export function planRound(groups: readonly OfferGroup[], table: InstanceTable, ctx: RoundContext): RoundPlan {
  const specs = table.orderedSpecs();
  const queues = specs.map((spec) => ({ spec, waiting: table.waiting(spec.name, ctx.now), next: 0 }));
  const plan: RoundPlan = { accepts: [], declines: [] };
  for (const group of groups) {
    const accept = new AcceptPlan(group.offers, { random: ctx.random });
    const first = group.offers[0];
    const hostname = first?.hostname ?? '';
    const address = first?.url?.address?.ip ?? hostname;
    const launches: PlannedLaunch[] = [];
    for (const queue of queues) {
      if (queue.next >= queue.waiting.length) continue;
      if (ctx.multiRole && queue.spec.role !== undefined && queue.spec.role !== group.role) continue;
      while (queue.next < queue.waiting.length) {
        const instance = queue.waiting[queue.next] as Instance;
        const taskId = newTaskId(
          queue.spec.name,
          instance.serial,
          ctx.random,
          (id) => id === instance.taskId || table.byTaskId(id) !== undefined,
        );
        const exec = queue.spec.spec.executor;
        const fit = accept.fit(
          queue.spec.needs,
          exec === undefined ? undefined : { executorId: executorIdFor(taskId), needs: exec.resources },
        );
        if (!fit.ok) break;
        queue.next += 1;
        const built = buildTask({
          spec: queue.spec,
          serial: instance.serial,
          taskId,
          agentId: group.agentId,
          hostname,
          ports: fit.ports,
          resources: fit.resources,
          executorResources: fit.executorResources,
          frameworkId: ctx.frameworkId,
        });
        if (built.operation === 'LAUNCH_GROUP' && built.executor !== undefined) {
          accept.launchGroup(built.executor, [built.task]);
        } else {
          accept.launch([built.task]);
        }
        launches.push({ instance, taskId, agentId: group.agentId, hostname, address, ports: fit.ports });
      }
    }
    if (launches.length === 0) {
      plan.declines.push({ role: group.role, offerIds: group.offers.map((o) => ({ value: o.id.value })) });
      continue;
    }
    for (const l of launches) {
      table.launched(
        l.instance,
        { taskId: l.taskId, agentId: l.agentId, hostname: l.hostname, address: l.address, ports: l.ports },
        ctx.now,
      );
    }
    plan.accepts.push({ role: group.role, payload: accept.toAccept(ctx.refuseSeconds), launches });
  }
  return plan;
}

/** True when some instance of a spec using `role` is waiting (backoff passed) — i.e. wants offers. */
export function roleHasWaiting(table: InstanceTable, role: string | undefined, now: number): boolean {
  for (const spec of table.orderedSpecs()) {
    if (role !== undefined && spec.role !== undefined && spec.role !== role) continue;
    if (table.hasWaiting(spec.name, now)) return true;
  }
  return false;
}
