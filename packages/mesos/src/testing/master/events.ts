import { packedIpv4 } from '../model/ids.js';
import { statusForFramework, type TaskStatusJson } from '../model/status.js';
import type { FakeFramework, World } from '../model/world.js';
import { encodeMesosJson, recordioText } from '../wire/mesos-json.js';

/**
 * Scheduler events, built with fields in `.proto` order and written as RecordIO records on a
 * framework's subscription stream. Events for a framework without an open stream are dropped,
 * as the real master drops them (agents keep and re-send what needs acknowledging).
 */

/** The version string the fake reports, as the recorded master did. */
export const MESOS_VERSION = '1.12.0';

/** `MasterInfo` of the master at host:port with the given id. */
export function masterInfoJson(masterId: string, host: string, port: number): Record<string, unknown> {
  return {
    id: masterId,
    ip: packedIpv4(host),
    port,
    pid: `master@${host}:${port}`,
    hostname: host,
    version: MESOS_VERSION,
    address: { hostname: host, ip: host, port },
    capabilities: [{ type: 'AGENT_UPDATE' }, { type: 'AGENT_DRAINING' }, { type: 'QUOTA_V2' }],
  };
}

/** Writes one event to the framework's stream; returns false when it is not connected. */
export function sendEvent(framework: FakeFramework, event: unknown): boolean {
  const subscription = framework.subscription;
  if (subscription === undefined || subscription.stream.closed) return false;
  subscription.stream.write(recordioText(encodeMesosJson(event)));
  return true;
}

/** Sends an UPDATE, rewriting partition-aware states for frameworks without PARTITION_AWARE. */
export function sendUpdate(framework: FakeFramework, status: TaskStatusJson): boolean {
  const adapted = statusForFramework(status, framework.capabilities.has('PARTITION_AWARE'));
  return sendEvent(framework, { type: 'UPDATE', update: { status: adapted } });
}

/** `{"type":"HEARTBEAT"}` */
export const HEARTBEAT_EVENT = { type: 'HEARTBEAT' } as const;

/** SUBSCRIBED with the framework id, heartbeat interval and the leader's MasterInfo. */
export function subscribedEvent(world: World, frameworkId: string, masterPort: number): unknown {
  return {
    type: 'SUBSCRIBED',
    subscribed: {
      framework_id: { value: frameworkId },
      heartbeat_interval_seconds: world.options.heartbeatIntervalSeconds,
      master_info: masterInfoJson(world.leadership.masterId, world.host, masterPort),
    },
  };
}

/** ERROR with a message (the master closes the stream right after it). */
export function errorEvent(message: string): unknown {
  return { type: 'ERROR', error: { message } };
}

/** RESCIND of one offer. */
export function rescindEvent(offerId: string): unknown {
  return { type: 'RESCIND', rescind: { offer_id: { value: offerId } } };
}

/** FAILURE: an agent was removed (only `agentId`) or an executor ended (with its wait status). */
export function failureEvent(agentId: string, executorId?: string, status?: number): unknown {
  const failure: Record<string, unknown> = { agent_id: { value: agentId } };
  if (executorId !== undefined) failure.executor_id = { value: executorId };
  if (status !== undefined) failure.status = status;
  return { type: 'FAILURE', failure };
}

/** MESSAGE from an executor to the scheduler (`data` is base64). */
export function messageEvent(agentId: string, executorId: string, data: string): unknown {
  return {
    type: 'MESSAGE',
    message: { agent_id: { value: agentId }, executor_id: { value: executorId }, data },
  };
}

/** Sends an event to every framework that has an open stream. */
export function broadcast(world: World, event: unknown): void {
  for (const framework of world.frameworks.values()) sendEvent(framework, event);
}
