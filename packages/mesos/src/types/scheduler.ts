/**
 * The v1 scheduler API (`mesos.v1.scheduler.Call` / `Event`, spec §1.4–1.5) as discriminated
 * unions on `type`, so `switch (event.type)` narrows to the payload field named after the type.
 */
import type { PseudoattributeType } from './enums.js';
import type {
  AgentID,
  Base64,
  ExecutorID,
  Filters,
  FrameworkID,
  FrameworkInfo,
  InverseOffer,
  KillPolicy,
  MasterInfo,
  Offer,
  OfferID,
  OfferOperation,
  OperationID,
  OperationStatus,
  Request,
  ResourceProviderID,
  TaskID,
  TaskStatus,
} from './mesos.js';

/** Scheduler call type names (Appendix A). */
export const SCHEDULER_CALL_TYPES = [
  'SUBSCRIBE',
  'TEARDOWN',
  'ACCEPT',
  'DECLINE',
  'ACCEPT_INVERSE_OFFERS',
  'DECLINE_INVERSE_OFFERS',
  'REVIVE',
  'KILL',
  'SHUTDOWN',
  'ACKNOWLEDGE',
  'ACKNOWLEDGE_OPERATION_STATUS',
  'RECONCILE',
  'RECONCILE_OPERATIONS',
  'MESSAGE',
  'REQUEST',
  'SUPPRESS',
  'UPDATE_FRAMEWORK',
] as const;
/** A scheduler call type. */
export type SchedulerCallType = (typeof SCHEDULER_CALL_TYPES)[number];

/** Scheduler event type names (Appendix A). */
export const SCHEDULER_EVENT_TYPES = [
  'SUBSCRIBED',
  'OFFERS',
  'INVERSE_OFFERS',
  'RESCIND',
  'RESCIND_INVERSE_OFFER',
  'UPDATE',
  'UPDATE_OPERATION_STATUS',
  'MESSAGE',
  'FAILURE',
  'ERROR',
  'HEARTBEAT',
] as const;
/** A scheduler event type. */
export type SchedulerEventType = (typeof SCHEDULER_EVENT_TYPES)[number];

/** `AttributeConstraint` (Mesos 1.11+): a predicate over one agent attribute or pseudoattribute. */
export interface AttributeConstraint {
  selector: { pseudoattribute_type?: PseudoattributeType; attribute_name?: string };
  predicate: {
    exists?: Record<string, never>;
    not_exists?: Record<string, never>;
    text_equals?: { value: string };
    text_not_equals?: { value: string };
    text_matches?: { regex: string };
    text_not_matches?: { regex: string };
  };
}

/**
 * `OfferConstraints`: per role, offers come only from agents that satisfy ALL constraints of ANY
 * group.
 */
export interface OfferConstraints {
  role_constraints?: Record<string, { groups?: { attribute_constraints?: AttributeConstraint[] }[] }>;
}

/** `Call.Subscribe`. */
export interface CallSubscribe {
  framework_info: FrameworkInfo;
  /** Subset of `framework_info.roles` that start suppressed. */
  suppressed_roles?: string[];
  offer_constraints?: OfferConstraints;
}
/** `Call.Accept`: all offers from one agent and one role; leftovers declined with `filters`. */
export interface CallAccept {
  offer_ids: OfferID[];
  operations?: OfferOperation[];
  filters?: Filters;
}
/** `Call.Decline`. Unknown offer ids are ignored by the master. */
export interface CallDecline {
  offer_ids: OfferID[];
  filters?: Filters;
}
/** `Call.AcceptInverseOffers` (advisory). */
export interface CallAcceptInverseOffers {
  inverse_offer_ids: OfferID[];
  filters?: Filters;
}
/** `Call.DeclineInverseOffers` (advisory). */
export interface CallDeclineInverseOffers {
  inverse_offer_ids: OfferID[];
  filters?: Filters;
}
/** `Call.Revive`: un-suppress and clear filters for `roles` (all roles when absent/empty). */
export interface CallRevive {
  roles?: string[];
}
/** `Call.Suppress`: stop offers for `roles` (all roles when absent/empty). */
export interface CallSuppress {
  roles?: string[];
}
/** `Call.Kill`: `kill_policy` overrides the task's own. */
export interface CallKill {
  task_id: TaskID;
  agent_id?: AgentID;
  kill_policy?: KillPolicy;
}
/** `Call.Shutdown`: shut a custom executor down. */
export interface CallShutdown {
  executor_id: ExecutorID;
  agent_id: AgentID;
}
/** `Call.Acknowledge`: `uuid` copied verbatim from the status update. */
export interface CallAcknowledge {
  agent_id: AgentID;
  task_id: TaskID;
  uuid: Base64;
}
/** `Call.AcknowledgeOperationStatus`: `uuid` is the base64 of `status.uuid.value`. */
export interface CallAcknowledgeOperationStatus {
  agent_id?: AgentID;
  resource_provider_id?: ResourceProviderID;
  uuid: Base64;
  operation_id: OperationID;
}
/** `Call.Reconcile.Task`. */
export interface ReconcileTask {
  task_id: TaskID;
  agent_id?: AgentID;
}
/** `Call.Reconcile`: empty/absent `tasks` ⇒ implicit reconciliation. */
export interface CallReconcile {
  tasks?: ReconcileTask[];
}
/** `Call.ReconcileOperations.Operation`. */
export interface ReconcileOperation {
  operation_id: OperationID;
  agent_id?: AgentID;
  resource_provider_id?: ResourceProviderID;
}
/** `Call.ReconcileOperations`: empty ⇒ implicit. */
export interface CallReconcileOperations {
  operations?: ReconcileOperation[];
}
/** `Call.Message`: best effort, opaque bytes to an executor. */
export interface CallMessage {
  agent_id: AgentID;
  executor_id: ExecutorID;
  data: Base64;
}
/** `Call.Request` (ignored by the built-in allocator). */
export interface CallRequest {
  requests?: Request[];
}
/** `Call.UpdateFramework`: synchronous (200); `framework_info.id` must equal `framework_id`. */
export interface CallUpdateFramework {
  framework_info: FrameworkInfo;
  suppressed_roles?: string[];
  offer_constraints?: OfferConstraints;
}

/** Fields shared by every call. */
interface CallEnvelope {
  /**
   * Required by Mesos on every call except the first SUBSCRIBE. The scheduler client fills it in
   * from the current subscription when it is absent.
   */
  framework_id?: FrameworkID;
}

/** `mesos.v1.scheduler.Call`: one variant per call type, with its payload field. */
export type SchedulerCall =
  | (CallEnvelope & { type: 'SUBSCRIBE'; subscribe: CallSubscribe })
  | (CallEnvelope & { type: 'TEARDOWN' })
  | (CallEnvelope & { type: 'ACCEPT'; accept: CallAccept })
  | (CallEnvelope & { type: 'DECLINE'; decline: CallDecline })
  | (CallEnvelope & { type: 'ACCEPT_INVERSE_OFFERS'; accept_inverse_offers: CallAcceptInverseOffers })
  | (CallEnvelope & { type: 'DECLINE_INVERSE_OFFERS'; decline_inverse_offers: CallDeclineInverseOffers })
  | (CallEnvelope & { type: 'REVIVE'; revive?: CallRevive })
  | (CallEnvelope & { type: 'KILL'; kill: CallKill })
  | (CallEnvelope & { type: 'SHUTDOWN'; shutdown: CallShutdown })
  | (CallEnvelope & { type: 'ACKNOWLEDGE'; acknowledge: CallAcknowledge })
  | (CallEnvelope & {
      type: 'ACKNOWLEDGE_OPERATION_STATUS';
      acknowledge_operation_status: CallAcknowledgeOperationStatus;
    })
  | (CallEnvelope & { type: 'RECONCILE'; reconcile: CallReconcile })
  | (CallEnvelope & { type: 'RECONCILE_OPERATIONS'; reconcile_operations: CallReconcileOperations })
  | (CallEnvelope & { type: 'MESSAGE'; message: CallMessage })
  | (CallEnvelope & { type: 'REQUEST'; request: CallRequest })
  | (CallEnvelope & { type: 'SUPPRESS'; suppress?: CallSuppress })
  | (CallEnvelope & { type: 'UPDATE_FRAMEWORK'; update_framework: CallUpdateFramework });

/** The call variant of one type, e.g. `SchedulerCallOf<'ACCEPT'>`. */
export type SchedulerCallOf<T extends SchedulerCallType> = Extract<SchedulerCall, { type: T }>;

/** `Event.Subscribed`: persist `framework_id` before anything else. */
export interface EventSubscribed {
  framework_id: FrameworkID;
  /** Seconds between HEARTBEAT events (15 on Mesos 1.12). */
  heartbeat_interval_seconds?: number;
  master_info?: MasterInfo;
}
/** `Event.Offers`. */
export interface EventOffers {
  offers?: Offer[];
}
/** `Event.InverseOffers`. */
export interface EventInverseOffers {
  inverse_offers?: InverseOffer[];
}
/** `Event.Rescind`: the offer is no longer valid. */
export interface EventRescind {
  offer_id: OfferID;
}
/** `Event.RescindInverseOffer`. */
export interface EventRescindInverseOffer {
  inverse_offer_id: OfferID;
}
/** `Event.Update`: a task status update; acknowledge it iff `status.uuid` is present. */
export interface EventUpdate {
  status: TaskStatus;
}
/** `Event.UpdateOperationStatus`. */
export interface EventUpdateOperationStatus {
  status: OperationStatus;
}
/** `Event.Message`: opaque bytes from an executor (unreliable). */
export interface EventMessage {
  agent_id: AgentID;
  executor_id: ExecutorID;
  data: Base64;
}
/**
 * `Event.Failure`: agent removed (only `agent_id`) or executor ended (`agent_id` +
 * `executor_id` + maybe `status`, a raw waitpid status). Not sent for command-executor exits.
 */
export interface EventFailure {
  agent_id?: AgentID;
  executor_id?: ExecutorID;
  status?: number;
}
/** `Event.Error`: fatal for the subscription; the master closes the stream after it. */
export interface EventError {
  message: string;
}

/** `mesos.v1.scheduler.Event`: one variant per event type, with its payload field. */
export type SchedulerEvent =
  | { type: 'SUBSCRIBED'; subscribed: EventSubscribed }
  | { type: 'OFFERS'; offers: EventOffers }
  | { type: 'INVERSE_OFFERS'; inverse_offers: EventInverseOffers }
  | { type: 'RESCIND'; rescind: EventRescind }
  | { type: 'RESCIND_INVERSE_OFFER'; rescind_inverse_offer: EventRescindInverseOffer }
  | { type: 'UPDATE'; update: EventUpdate }
  | { type: 'UPDATE_OPERATION_STATUS'; update_operation_status: EventUpdateOperationStatus }
  | { type: 'MESSAGE'; message: EventMessage }
  | { type: 'FAILURE'; failure: EventFailure }
  | { type: 'ERROR'; error: EventError }
  | { type: 'HEARTBEAT' };

/** The event variant of one type, e.g. `SchedulerEventOf<'UPDATE'>`. */
export type SchedulerEventOf<T extends SchedulerEventType> = Extract<SchedulerEvent, { type: T }>;
