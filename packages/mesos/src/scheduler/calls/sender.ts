/**
 * Sending calls on the current subscription (spec §1.4): every call but SUBSCRIBE is POSTed to
 * the master the subscription is on, with its `Mesos-Stream-Id` header and the `framework_id`
 * filled in, through the client's keep-alive pool. SUPPRESS, REVIVE and UPDATE_FRAMEWORK go out
 * one at a time, in the order they were made; every other call goes out at once.
 */
import type { MesosHttpClient, MesosResponse } from '../../http/client.js';
import { type MesosTransportError, isMesosTransportError } from '../../http/errors.js';
import { encodeJson } from '../../json/index.js';
import type { SchedulerCall } from '../../types/index.js';
import { SchedulerError } from '../errors.js';
import type { ConnectionState } from '../session/connection.js';

/** The connection phase in which calls can be sent. */
export type SubscribedState = Extract<ConnectionState, { phase: 'SUBSCRIBED' }>;

/** What a sender needs from its scheduler. */
export interface CallSenderDeps {
  http: MesosHttpClient;
  /** The connection phase now. */
  state(): ConnectionState;
  /**
   * A call's answer said that `subscription` is gone (403, 307, 503): end it, unless another
   * one has replaced it meanwhile.
   */
  subscriptionLost(subscription: SubscribedState, error: MesosTransportError): void;
}

/** Calls whose effect depends on their order among themselves: sent one after another. */
export const ORDERED_CALLS: ReadonlySet<SchedulerCall['type']> = new Set([
  'SUPPRESS',
  'REVIVE',
  'UPDATE_FRAMEWORK',
]);

/**
 * Calls that may be pipelined on a busy keep-alive connection (../../http/client.ts): sending
 * one twice is harmless (the agent drops an acknowledgement of an update it no longer holds),
 * and a busy scheduler sends one per status update.
 */
export const PIPELINED_CALLS: ReadonlySet<SchedulerCall['type']> = new Set([
  'ACKNOWLEDGE',
  'ACKNOWLEDGE_OPERATION_STATUS',
]);

/** Sends scheduler calls on the current subscription. */
export class CallSender {
  /** The calls endpoint and Mesos-Stream-Id header of the last subscription a call used. */
  private route: { master: string; streamId: string; url: URL; headers: Record<string, string> } | undefined;
  /** The last order-sensitive call (see ORDERED_CALLS) sent: the next one waits for its answer. */
  private orderedTail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: CallSenderDeps) {}

  /**
   * Sends `call` (not SUBSCRIBE) on the current subscription. Resolves with the answer (202, or
   * 200 for UPDATE_FRAMEWORK); rejects with SchedulerError MESOS_NOT_SUBSCRIBED between
   * subscriptions, MESOS_BAD_OPTIONS for SUBSCRIBE, or with a transport error.
   */
  send(call: SchedulerCall): Promise<MesosResponse> {
    const s = this.deps.state();
    if (call.type === 'SUBSCRIBE')
      return Promise.reject(
        new SchedulerError('MESOS_BAD_OPTIONS', 'SUBSCRIBE is made by the scheduler itself'),
      );
    if (s.phase !== 'SUBSCRIBED') {
      return Promise.reject(
        new SchedulerError('MESOS_NOT_SUBSCRIBED', `cannot send ${call.type} while ${s.phase}`),
      );
    }
    const body = encodeCall(call, s.frameworkId);
    const pipelined = PIPELINED_CALLS.has(call.type);
    if (ORDERED_CALLS.has(call.type)) {
      // Calls go out on many keep-alive connections, so two calls sent back to back can reach
      // the master in either order. For these the order is the meaning (a SUPPRESS overtaken by
      // a later REVIVE leaves the framework suppressed with work waiting), so each one is sent
      // only once the master has answered the one before: the master queues a call before it
      // answers 202, so the answers' order is the order it acts in.
      const sent = this.orderedTail.then(
        () => this.post(s, body, false),
        () => this.post(s, body, false),
      );
      this.orderedTail = sent.catch(() => undefined);
      return sent;
    }
    // Returned, not awaited: once encoded, the call (an ACCEPT's TaskInfos, say) can be
    // collected while its answer is awaited.
    return this.post(s, body, pipelined);
  }

  private async post(s: SubscribedState, body: string, pipelined: boolean): Promise<MesosResponse> {
    let route = this.route;
    if (route === undefined || route.master !== s.master || route.streamId !== s.streamId) {
      route = {
        master: s.master,
        streamId: s.streamId,
        url: schedulerEndpoint(s.master),
        headers: { 'Mesos-Stream-Id': s.streamId },
      };
      this.route = route;
    }
    try {
      return await this.deps.http.post(route.url, body, {
        headers: route.headers,
        pipelined,
      });
    } catch (error) {
      if (isMesosTransportError(error) && error.subscriptionLost) this.deps.subscriptionLost(s, error);
      throw error;
    }
  }
}

/** The JSON body of a call, with `framework_id` (and UPDATE_FRAMEWORK's `framework_info.id`) filled in. */
export function encodeCall(call: SchedulerCall, frameworkId: string): string {
  const framework_id = call.framework_id ?? { value: frameworkId };
  let body: SchedulerCall = { ...call, framework_id };
  if (body.type === 'UPDATE_FRAMEWORK' && !body.update_framework.framework_info.id) {
    body = {
      ...body,
      update_framework: {
        ...body.update_framework,
        framework_info: { ...body.update_framework.framework_info, id: framework_id },
      },
    };
  }
  return encodeJson(body);
}

/** The scheduler API endpoint of a master. */
export function schedulerEndpoint(master: string | URL): URL {
  return new URL('/api/v1/scheduler', master);
}
