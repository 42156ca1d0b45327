import type { MessageSchema } from './call-parsing.js';

/**
 * The required fields of the v1 scheduler and executor `Call` messages and of the messages
 * inside them that the fake reads, in `.proto` declaration order (protobuf reports missing
 * required fields in that order).
 */

const ID: MessageSchema = { required: ['value'] };
const DURATION: MessageSchema = { required: ['nanoseconds'] };
const KILL_POLICY: MessageSchema = { fields: { grace_period: DURATION } };
const RESOURCE: MessageSchema = {
  required: ['name', 'type'],
  fields: {
    scalar: { required: ['value'] },
    ranges: { fields: { range: [{ required: ['begin', 'end'] }] } },
  },
};
const ENVIRONMENT: MessageSchema = { fields: { variables: [{ required: ['name'] }] } };
const COMMAND: MessageSchema = { fields: { uris: [{ required: ['value'] }], environment: ENVIRONMENT } };
const EXECUTOR_INFO: MessageSchema = {
  required: ['executor_id'],
  fields: { executor_id: ID, framework_id: ID, command: COMMAND, resources: [RESOURCE] },
};
const TASK_INFO: MessageSchema = {
  required: ['name', 'task_id', 'agent_id'],
  fields: {
    task_id: ID,
    agent_id: ID,
    resources: [RESOURCE],
    executor: EXECUTOR_INFO,
    command: COMMAND,
    kill_policy: KILL_POLICY,
  },
};
const FRAMEWORK_INFO: MessageSchema = { required: ['user', 'name'], fields: { id: ID } };
const OPERATION: MessageSchema = {
  fields: {
    launch: { fields: { task_infos: [TASK_INFO] } },
    launch_group: {
      required: ['executor', 'task_group'],
      fields: { executor: EXECUTOR_INFO, task_group: { fields: { tasks: [TASK_INFO] } } },
    },
  },
};
const TASK_STATUS: MessageSchema = {
  required: ['task_id', 'state'],
  fields: { task_id: ID, agent_id: ID, executor_id: ID },
};

/** `mesos.v1.scheduler.Call`. */
export const SCHEDULER_CALL: MessageSchema = {
  fields: {
    framework_id: ID,
    subscribe: { required: ['framework_info'], fields: { framework_info: FRAMEWORK_INFO } },
    accept: { fields: { offer_ids: [ID], operations: [OPERATION] } },
    decline: { fields: { offer_ids: [ID] } },
    kill: { required: ['task_id'], fields: { task_id: ID, agent_id: ID, kill_policy: KILL_POLICY } },
    shutdown: { required: ['executor_id', 'agent_id'], fields: { executor_id: ID, agent_id: ID } },
    acknowledge: { required: ['agent_id', 'task_id', 'uuid'], fields: { agent_id: ID, task_id: ID } },
    reconcile: { fields: { tasks: [{ required: ['task_id'], fields: { task_id: ID, agent_id: ID } }] } },
    message: { required: ['agent_id', 'executor_id', 'data'], fields: { agent_id: ID, executor_id: ID } },
  },
};

/** `mesos.v1.executor.Call`. */
export const EXECUTOR_CALL: MessageSchema = {
  required: ['executor_id', 'framework_id'],
  fields: {
    executor_id: ID,
    framework_id: ID,
    subscribe: {
      fields: {
        unacknowledged_tasks: [TASK_INFO],
        unacknowledged_updates: [{ required: ['status'], fields: { status: TASK_STATUS } }],
      },
    },
    update: { required: ['status'], fields: { status: TASK_STATUS } },
    message: { required: ['data'] },
  },
};

/** Every scheduler call type name. */
export const SCHEDULER_CALL_TYPES: ReadonlySet<string> = new Set([
  'UNKNOWN',
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
]);

/** The payload field each scheduler call type requires (`undefined` = none required). */
export const SCHEDULER_PAYLOAD: Readonly<Record<string, string | undefined>> = {
  ACCEPT: 'accept',
  DECLINE: 'decline',
  ACCEPT_INVERSE_OFFERS: 'accept_inverse_offers',
  DECLINE_INVERSE_OFFERS: 'decline_inverse_offers',
  KILL: 'kill',
  SHUTDOWN: 'shutdown',
  ACKNOWLEDGE: 'acknowledge',
  ACKNOWLEDGE_OPERATION_STATUS: 'acknowledge_operation_status',
  RECONCILE: 'reconcile',
  RECONCILE_OPERATIONS: 'reconcile_operations',
  MESSAGE: 'message',
  REQUEST: 'request',
  UPDATE_FRAMEWORK: 'update_framework',
};

/** Every executor call type name. */
export const EXECUTOR_CALL_TYPES: ReadonlySet<string> = new Set([
  'UNKNOWN',
  'SUBSCRIBE',
  'UPDATE',
  'MESSAGE',
  'HEARTBEAT',
]);
