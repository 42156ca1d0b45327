/**
 * Typed methods for every scheduler call except SUBSCRIBE (which the session makes itself).
 * Each builds the call with `calls.*` and sends it through `call()` on the current
 * subscription; they resolve when Mesos accepted the call (202, or 200 for UPDATE_FRAMEWORK)
 * and reject with a transport error or `SchedulerError` MESOS_NOT_SUBSCRIBED.
 */
import type { MesosResponse } from '../../http/client.js';
import type {
  Base64,
  Filters,
  FrameworkInfo,
  KillPolicy,
  OfferConstraints,
  OfferOperation,
  OperationStatus,
  ReconcileOperation,
  Request,
  SchedulerCall,
  TaskStatus,
} from '../../types/index.js';
import * as calls from './builders.js';
import type { IdLike } from './builders.js';

/** The call methods, on top of one abstract `call`. */
export abstract class SchedulerCallMethods {
  /** Sends any non-SUBSCRIBE call on the current subscription (framework_id filled in). */
  abstract call(call: SchedulerCall): Promise<MesosResponse>;

  /** Called after offers were used by ACCEPT/DECLINE so they leave the offer cache. */
  protected abstract offersUsed(offerIds: readonly IdLike[]): void;

  /** ACCEPT: launch/reserve/… on offers of one agent and role; leftovers declined with `filters`. */
  async accept(offerIds: readonly IdLike[], operations: OfferOperation[], filters?: Filters): Promise<void> {
    this.offersUsed(offerIds);
    // Returned, not awaited: the operations (TaskInfos) need not live until Mesos answers.
    return toVoid(this.call(calls.accept(offerIds, operations, filters)));
  }

  /** DECLINE: refuse the offers for `filters.refuse_seconds` (Mesos default 5 s). */
  async decline(offerIds: readonly IdLike[], filters?: Filters): Promise<void> {
    this.offersUsed(offerIds);
    await this.call(calls.decline(offerIds, filters));
  }

  /** ACCEPT_INVERSE_OFFERS. */
  async acceptInverseOffers(inverseOfferIds: readonly IdLike[], filters?: Filters): Promise<void> {
    await this.call(calls.acceptInverseOffers(inverseOfferIds, filters));
  }

  /** DECLINE_INVERSE_OFFERS. */
  async declineInverseOffers(inverseOfferIds: readonly IdLike[], filters?: Filters): Promise<void> {
    await this.call(calls.declineInverseOffers(inverseOfferIds, filters));
  }

  /** REVIVE `roles` (all when omitted): un-suppress and clear offer filters. */
  async revive(roles?: readonly string[]): Promise<void> {
    await this.call(calls.revive(roles));
  }

  /** SUPPRESS `roles` (all when omitted). */
  async suppress(roles?: readonly string[]): Promise<void> {
    await this.call(calls.suppress(roles));
  }

  /** KILL a task; `killPolicy` overrides the task's own. */
  async kill(taskId: IdLike, agentId?: IdLike, killPolicy?: KillPolicy): Promise<void> {
    await this.call(calls.kill(taskId, agentId, killPolicy));
  }

  /** SHUTDOWN a custom executor. */
  async shutdown(executorId: IdLike, agentId: IdLike): Promise<void> {
    await this.call(calls.shutdown(executorId, agentId));
  }

  /** RECONCILE the listed tasks now (one call; implicit when empty). See also `reconcile()`. */
  async reconcileTasks(tasks: readonly { task_id: IdLike; agent_id?: IdLike }[]): Promise<void> {
    await this.call(calls.reconcile(tasks));
  }

  /** RECONCILE_OPERATIONS (implicit when empty). */
  async reconcileOperations(operations: readonly ReconcileOperation[] = []): Promise<void> {
    await this.call(calls.reconcileOperations(operations));
  }

  /** MESSAGE to an executor (best effort). */
  async message(agentId: IdLike, executorId: IdLike, data: Base64): Promise<void> {
    await this.call(calls.message(agentId, executorId, data));
  }

  /** REQUEST (ignored by the built-in allocator). */
  async request(requests: Request[]): Promise<void> {
    await this.call(calls.request(requests));
  }

  /** UPDATE_FRAMEWORK (synchronous; 200 on success). `framework_info.id` is filled in when absent. */
  async updateFramework(
    frameworkInfo: FrameworkInfo,
    options: { suppressedRoles?: string[]; offerConstraints?: OfferConstraints } = {},
  ): Promise<void> {
    await this.call(calls.updateFramework(frameworkInfo, options));
  }

  /** ACKNOWLEDGE_OPERATION_STATUS for a status with a uuid; a no-op for one without. */
  async acknowledgeOperationStatus(status: OperationStatus): Promise<void> {
    const call = calls.acknowledgeOperationStatus(status);
    if (call) await this.call(call);
  }

  /** ACKNOWLEDGE a task status (manual mode); see the scheduler for dedupe rules. */
  abstract acknowledge(status: TaskStatus): Promise<void>;
}

function toVoid(answer: Promise<MesosResponse>): Promise<void> {
  return answer.then(() => undefined);
}
