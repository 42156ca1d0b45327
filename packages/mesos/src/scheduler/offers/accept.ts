import type {
  ExecutorInfo,
  Filters,
  Offer,
  OfferID,
  OfferOperation,
  Resource,
  TaskInfo,
} from '../../types/index.js';
import type { Allocation, FitFailure, ResourceNeeds } from './needs.js';
import { ResourcePool, type PoolOptions } from './pool.js';

/** The payload of an ACCEPT call (`Call.accept`), ready for the scheduler client. */
export interface AcceptPayload {
  offer_ids: OfferID[];
  operations: OfferOperation[];
  filters: Filters;
}

/** A task's allocation, plus its executor's when the executor has to be launched with it. */
export interface TaskAllocation extends Allocation {
  /**
   * Resources for the executor (`ExecutorInfo.resources`) when it is neither running on the agent
   * (`offer.executor_ids`) nor launched earlier in this ACCEPT; `undefined` when it needs none.
   */
  executorResources: Resource[] | undefined;
}

/** The executor a task runs under, for executor budgeting (LAUNCH_GROUP or custom executors). */
export interface ExecutorNeeds {
  executorId: string;
  /** What the executor itself needs when first launched (LAUNCH_GROUP: ≥ 0.01 cpus, 32 MB, some disk). */
  needs: ResourceNeeds;
}

/**
 * Builds one ACCEPT that launches several tasks from several offers of one agent and role
 * (spec §1.4, §6.3): `fit` cuts each task's resources from the shared pool, `launch` and
 * `launchGroup` record the operations, `toAccept` returns the call payload naming every offer
 * (leftovers are declined by Mesos with the given filter).
 */
export class AcceptPlan {
  /** The pool every fit is cut from; read it for `remaining()`/`available()`. */
  readonly pool: ResourcePool;
  private readonly operations: OfferOperation[] = [];
  private launchOp: { task_infos: TaskInfo[] } | undefined;
  private taskCount = 0;

  /** Throws `OfferMismatchError` unless all offers are of one agent and role and distinct. */
  constructor(offers: readonly Offer[], options: PoolOptions = {}) {
    this.pool = new ResourcePool(offers, options);
  }

  /** The agent every TaskInfo of this plan must name in `agent_id`. */
  get agentId(): string {
    return this.pool.agentId;
  }

  /** The number of tasks recorded so far (LAUNCH and LAUNCH_GROUP). */
  get size(): number {
    return this.taskCount;
  }

  /**
   * Takes a task's resources (and, when `executor` is given and not yet present on the agent or in
   * this plan, the executor's) from the pool, all or nothing. The executor is then counted as
   * launched by this plan.
   */
  fit(needs: ResourceNeeds, executor?: ExecutorNeeds): TaskAllocation | FitFailure {
    const withExecutor = executor !== undefined && !this.pool.hasExecutor(executor.executorId);
    const result = this.pool.allocateAll(withExecutor ? [needs, executor.needs] : [needs]);
    if (!result.ok) return result;
    const [task, exec] = result.allocations as [Allocation, Allocation | undefined];
    if (withExecutor) this.pool.addExecutor(executor.executorId);
    return { ...task, executorResources: exec?.resources };
  }

  /**
   * Adds tasks to this plan's LAUNCH operation (one per ACCEPT, created on first use). Each task's
   * `agent_id` is set to the plan's agent; its `resources` must come from `fit`.
   */
  launch(tasks: readonly TaskInfo[]): void {
    if (this.launchOp === undefined) {
      this.launchOp = { task_infos: [] };
      this.operations.push({ type: 'LAUNCH', launch: this.launchOp });
    }
    for (const task of tasks) this.launchOp.task_infos.push({ ...task, agent_id: { value: this.agentId } });
    this.taskCount += tasks.length;
  }

  /** Adds a LAUNCH_GROUP operation: `tasks` run under the default (or given) `executor`. */
  launchGroup(executor: ExecutorInfo, tasks: readonly TaskInfo[]): void {
    const agent = { value: this.agentId };
    this.operations.push({
      type: 'LAUNCH_GROUP',
      launch_group: { executor, task_group: { tasks: tasks.map((t) => ({ ...t, agent_id: agent })) } },
    });
    this.taskCount += tasks.length;
  }

  /**
   * The ACCEPT payload: every offer of the pool, the recorded operations in order, and
   * `filters.refuse_seconds` for what is left over (seconds; ≥ 0).
   */
  toAccept(refuseSeconds: number): AcceptPayload {
    return {
      offer_ids: this.pool.offers.map((o) => ({ value: o.id.value })),
      operations: this.operations,
      filters: { refuse_seconds: refuseSeconds },
    };
  }
}
