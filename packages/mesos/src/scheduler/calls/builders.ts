/**
 * Builders for every scheduler call, named after the calls (`calls.accept`, `calls.decline`…, as
 * mesos-go does). They only build data: `framework_id` is left out and filled in by the
 * scheduler that sends them. Ids may be given as `{value}` objects or plain strings.
 */
import type {
  AgentID,
  Base64,
  CallReconcile,
  CallSubscribe,
  ExecutorID,
  Filters,
  FrameworkInfo,
  KillPolicy,
  OfferConstraints,
  OfferID,
  OfferOperation,
  OperationID,
  OperationStatus,
  ReconcileOperation,
  ReconcileTask,
  Request,
  ResourceProviderID,
  SchedulerCallOf,
  TaskID,
  TaskStatus,
} from '../../types/index.js';

/** An id as an object `{value}` or as its plain string. */
export type IdLike = string | { value: string };

/** Normalizes an `IdLike` to the `{value}` object Mesos expects. */
export function toId<T extends { value: string }>(id: IdLike): T {
  return (typeof id === 'string' ? { value: id } : { value: id.value }) as T;
}

const ids = <T extends { value: string }>(list: readonly IdLike[]): T[] => list.map((id) => toId<T>(id));

/** SUBSCRIBE; `framework_id` is set at top level when `framework_info.id` is. */
export function subscribe(
  frameworkInfo: FrameworkInfo,
  options: { suppressedRoles?: string[]; offerConstraints?: OfferConstraints } = {},
): SchedulerCallOf<'SUBSCRIBE'> {
  const payload: CallSubscribe = { framework_info: frameworkInfo };
  if (options.suppressedRoles?.length) payload.suppressed_roles = [...options.suppressedRoles];
  if (options.offerConstraints) payload.offer_constraints = options.offerConstraints;
  return {
    type: 'SUBSCRIBE',
    ...(frameworkInfo.id ? { framework_id: { value: frameworkInfo.id.value } } : {}),
    subscribe: payload,
  };
}

/** TEARDOWN: removes the framework for good (all tasks killed; the id is never valid again). */
export function teardown(): SchedulerCallOf<'TEARDOWN'> {
  return { type: 'TEARDOWN' };
}

/** ACCEPT: apply `operations` in order to the union of `offerIds` (one agent, one role). */
export function accept(
  offerIds: readonly IdLike[],
  operations: OfferOperation[],
  filters?: Filters,
): SchedulerCallOf<'ACCEPT'> {
  return {
    type: 'ACCEPT',
    accept: { offer_ids: ids<OfferID>(offerIds), operations, ...(filters ? { filters } : {}) },
  };
}

/** DECLINE: give the offers back, refusing them for `filters.refuse_seconds` (default 5 s). */
export function decline(offerIds: readonly IdLike[], filters?: Filters): SchedulerCallOf<'DECLINE'> {
  return { type: 'DECLINE', decline: { offer_ids: ids<OfferID>(offerIds), ...(filters ? { filters } : {}) } };
}

/** ACCEPT_INVERSE_OFFERS (advisory: "I will vacate in time"). */
export function acceptInverseOffers(
  inverseOfferIds: readonly IdLike[],
  filters?: Filters,
): SchedulerCallOf<'ACCEPT_INVERSE_OFFERS'> {
  return {
    type: 'ACCEPT_INVERSE_OFFERS',
    accept_inverse_offers: {
      inverse_offer_ids: ids<OfferID>(inverseOfferIds),
      ...(filters ? { filters } : {}),
    },
  };
}

/** DECLINE_INVERSE_OFFERS (advisory: "I cannot comply"). */
export function declineInverseOffers(
  inverseOfferIds: readonly IdLike[],
  filters?: Filters,
): SchedulerCallOf<'DECLINE_INVERSE_OFFERS'> {
  return {
    type: 'DECLINE_INVERSE_OFFERS',
    decline_inverse_offers: {
      inverse_offer_ids: ids<OfferID>(inverseOfferIds),
      ...(filters ? { filters } : {}),
    },
  };
}

/** REVIVE: un-suppress and clear filters for `roles` (all subscribed roles when omitted). */
export function revive(roles?: readonly string[]): SchedulerCallOf<'REVIVE'> {
  return roles?.length ? { type: 'REVIVE', revive: { roles: [...roles] } } : { type: 'REVIVE' };
}

/** SUPPRESS: stop offers for `roles` (all subscribed roles when omitted). */
export function suppress(roles?: readonly string[]): SchedulerCallOf<'SUPPRESS'> {
  return roles?.length ? { type: 'SUPPRESS', suppress: { roles: [...roles] } } : { type: 'SUPPRESS' };
}

/** KILL: `killPolicy` overrides the task's own (e.g. grace 0 to escalate). */
export function kill(taskId: IdLike, agentId?: IdLike, killPolicy?: KillPolicy): SchedulerCallOf<'KILL'> {
  return {
    type: 'KILL',
    kill: {
      task_id: toId<TaskID>(taskId),
      ...(agentId !== undefined ? { agent_id: toId<AgentID>(agentId) } : {}),
      ...(killPolicy ? { kill_policy: killPolicy } : {}),
    },
  };
}

/** SHUTDOWN: shut a custom executor (and its tasks) down. */
export function shutdown(executorId: IdLike, agentId: IdLike): SchedulerCallOf<'SHUTDOWN'> {
  return {
    type: 'SHUTDOWN',
    shutdown: { executor_id: toId<ExecutorID>(executorId), agent_id: toId<AgentID>(agentId) },
  };
}

/** ACKNOWLEDGE of one status update; `uuid` copied verbatim (base64). */
export function acknowledge(agentId: IdLike, taskId: IdLike, uuid: Base64): SchedulerCallOf<'ACKNOWLEDGE'> {
  return {
    type: 'ACKNOWLEDGE',
    acknowledge: { agent_id: toId<AgentID>(agentId), task_id: toId<TaskID>(taskId), uuid },
  };
}

/**
 * ACKNOWLEDGE for a received status. Returns undefined when the status needs no ack (no
 * `uuid`, spec §4.2) or lacks the `agent_id` an ack requires.
 */
export function acknowledgeStatus(status: TaskStatus): SchedulerCallOf<'ACKNOWLEDGE'> | undefined {
  if (status.uuid === undefined || status.agent_id === undefined) return undefined;
  return acknowledge(status.agent_id, status.task_id, status.uuid);
}

/**
 * ACKNOWLEDGE_OPERATION_STATUS for a received operation status; undefined when it carries no
 * `uuid` or no `operation_id`.
 */
export function acknowledgeOperationStatus(
  status: OperationStatus,
): SchedulerCallOf<'ACKNOWLEDGE_OPERATION_STATUS'> | undefined {
  if (!status.uuid || !status.operation_id) return undefined;
  return {
    type: 'ACKNOWLEDGE_OPERATION_STATUS',
    acknowledge_operation_status: {
      ...(status.agent_id ? { agent_id: status.agent_id } : {}),
      ...(status.resource_provider_id
        ? { resource_provider_id: status.resource_provider_id as ResourceProviderID }
        : {}),
      uuid: status.uuid.value,
      operation_id: status.operation_id as OperationID,
    },
  };
}

/** RECONCILE: explicit for the listed tasks; implicit (all tasks the master knows) when empty. */
export function reconcile(
  tasks: readonly { task_id: IdLike; agent_id?: IdLike }[] = [],
): SchedulerCallOf<'RECONCILE'> {
  const payload: CallReconcile = {
    tasks: tasks.map((t): ReconcileTask => ({
      task_id: toId<TaskID>(t.task_id),
      ...(t.agent_id !== undefined ? { agent_id: toId<AgentID>(t.agent_id) } : {}),
    })),
  };
  return { type: 'RECONCILE', reconcile: payload };
}

/** RECONCILE_OPERATIONS: explicit for the listed operations; implicit when empty. */
export function reconcileOperations(
  operations: readonly ReconcileOperation[] = [],
): SchedulerCallOf<'RECONCILE_OPERATIONS'> {
  return { type: 'RECONCILE_OPERATIONS', reconcile_operations: { operations: [...operations] } };
}

/** MESSAGE: best-effort opaque bytes (base64) to an executor. */
export function message(agentId: IdLike, executorId: IdLike, data: Base64): SchedulerCallOf<'MESSAGE'> {
  return {
    type: 'MESSAGE',
    message: { agent_id: toId<AgentID>(agentId), executor_id: toId<ExecutorID>(executorId), data },
  };
}

/** REQUEST (ignored by Mesos' built-in allocator). */
export function request(requests: Request[]): SchedulerCallOf<'REQUEST'> {
  return { type: 'REQUEST', request: { requests } };
}

/** UPDATE_FRAMEWORK: change roles, name, capabilities… without resubscribing (synchronous). */
export function updateFramework(
  frameworkInfo: FrameworkInfo,
  options: { suppressedRoles?: string[]; offerConstraints?: OfferConstraints } = {},
): SchedulerCallOf<'UPDATE_FRAMEWORK'> {
  return {
    type: 'UPDATE_FRAMEWORK',
    update_framework: {
      framework_info: frameworkInfo,
      ...(options.suppressedRoles ? { suppressed_roles: [...options.suppressedRoles] } : {}),
      ...(options.offerConstraints ? { offer_constraints: options.offerConstraints } : {}),
    },
  };
}
