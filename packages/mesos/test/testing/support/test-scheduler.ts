import { EventStream, JSON_HEADERS, openStream, rawRequest, type RawResponse } from './wire-client.js';

/**
 * A bare-bones scheduler for testing the fake directly (not through the SDK): subscribe, send
 * calls with the stream id, acknowledge, and find events. Assertions stay in the tests.
 */

/** The FrameworkInfo the recordings used, overridable. */
export function frameworkInfo(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    user: 'root',
    name: 'fake-master-test',
    roles: ['*'],
    failover_timeout: 60,
    checkpoint: true,
    capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }, { type: 'TASK_KILLING_STATE' }],
    ...overrides,
  };
}

/** A subscribed test scheduler. */
export interface TestScheduler {
  readonly frameworkId: string;
  readonly streamId: string;
  readonly stream: EventStream;
  /** Sends a call (type + payload field) with framework id and stream id; returns the answer. */
  call(type: string, payload?: Record<string, unknown>): Promise<RawResponse>;
  /** Acknowledges an UPDATE event's status. */
  ack(status: Record<string, unknown>): Promise<RawResponse>;
  /** The next UPDATE (after earlier `next` calls) for a task, optionally in a state. */
  nextUpdate(taskId: string, state?: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** The next OFFERS event's offers. */
  nextOffers(timeoutMs?: number): Promise<Array<Record<string, unknown>>>;
}

/** SUBSCRIBEs with `info` and waits for SUBSCRIBED. */
export async function subscribeScheduler(
  baseUrl: string,
  info: Record<string, unknown> = frameworkInfo(),
  frameworkId?: string,
): Promise<TestScheduler> {
  const body: Record<string, unknown> = {
    type: 'SUBSCRIBE',
    subscribe: { framework_info: frameworkId === undefined ? info : { ...info, id: { value: frameworkId } } },
  };
  if (frameworkId !== undefined) body.framework_id = { value: frameworkId };
  const opened = await openStream(baseUrl, { path: '/api/v1/scheduler', headers: JSON_HEADERS, body });
  if (!(opened instanceof EventStream))
    throw new Error(`SUBSCRIBE answered ${opened.status}: ${opened.body}`);
  const stream = opened;
  const subscribed = await stream.nextOfType('SUBSCRIBED');
  const id = String(
    ((subscribed.event.subscribed as Record<string, unknown>).framework_id as { value: string }).value,
  );
  const streamId = stream.headers.find(([name]) => name.toLowerCase() === 'mesos-stream-id')?.[1] ?? '';
  const call = (type: string, payload?: Record<string, unknown>): Promise<RawResponse> => {
    const callBody: Record<string, unknown> = { framework_id: { value: id }, type };
    if (payload !== undefined) Object.assign(callBody, payload);
    return rawRequest(baseUrl, {
      path: '/api/v1/scheduler',
      headers: [...JSON_HEADERS, ['Mesos-Stream-Id', streamId]],
      body: callBody,
    });
  };
  return {
    frameworkId: id,
    streamId,
    stream,
    call,
    ack: (status) =>
      call('ACKNOWLEDGE', {
        acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid },
      }),
    nextUpdate: async (taskId, state, timeoutMs = 10_000) => {
      const record = await stream.next(
        (r) => {
          const status = (
            r.event.update as { status?: { task_id?: { value?: string }; state?: string } } | undefined
          )?.status;
          return (
            r.type === 'UPDATE' &&
            status?.task_id?.value === taskId &&
            (state === undefined || status.state === state)
          );
        },
        timeoutMs,
        `an UPDATE of ${taskId}${state === undefined ? '' : ` in ${state}`}`,
      );
      return (record.event.update as { status: Record<string, unknown> }).status;
    },
    nextOffers: async (timeoutMs = 10_000) => {
      const record = await stream.nextOfType('OFFERS', timeoutMs);
      return (record.event.offers as { offers: Array<Record<string, unknown>> }).offers;
    },
  };
}

/** A command TaskInfo on an offer's agent using the offer's allocation role. */
export function commandTask(
  offer: Record<string, unknown>,
  taskId: string,
  command: string,
  extra: Record<string, unknown> = {},
  resources: { cpus?: number; mem?: number } = {},
): Record<string, unknown> {
  const role = ((offer.allocation_info as { role?: string } | undefined)?.role ?? '*') as string;
  return {
    name: taskId,
    task_id: { value: taskId },
    agent_id: offer.agent_id,
    resources: [
      {
        name: 'cpus',
        type: 'SCALAR',
        role: '*',
        allocation_info: { role },
        scalar: { value: resources.cpus ?? 0.1 },
      },
      {
        name: 'mem',
        type: 'SCALAR',
        role: '*',
        allocation_info: { role },
        scalar: { value: resources.mem ?? 32 },
      },
    ],
    command: { value: command },
    ...extra,
  };
}

/** An ACCEPT payload launching `tasks` on `offers`. */
export function launch(
  offers: Array<Record<string, unknown>>,
  tasks: Array<Record<string, unknown>>,
  filters?: Record<string, unknown>,
): Record<string, unknown> {
  return {
    accept: {
      offer_ids: offers.map((offer) => offer.id),
      operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }],
      ...(filters === undefined ? {} : { filters }),
    },
  };
}
