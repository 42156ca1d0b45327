import { isUuidBytes } from '../model/ids.js';
import { recordCall, type JsonObject, type MasterServer, type World } from '../model/world.js';
import { acceptsMediaType, idValue, objectField, readCallBody } from '../wire/call-parsing.js';
import type { HttpRequest, HttpResponder } from '../wire/http-server.js';
import {
  httpDate,
  sendAccepted,
  sendMethodNotAllowed,
  sendText,
  sendUnauthorized,
} from '../wire/responses.js';
import { SCHEDULER_CALL, SCHEDULER_CALL_TYPES, SCHEDULER_PAYLOAD } from '../wire/schemas.js';
import { runCall, updateFramework } from './calls.js';
import { capabilitiesOf, frameworkInfoError, rolesOf } from './framework-info.js';
import { subscribe } from './subscriptions.js';

/**
 * `POST /api/v1/scheduler` on the leading master, with Mesos' checks in Mesos' order
 * (master/http.cpp): 401 → 405 → Content-Type → JSON → required fields → call validation →
 * (SUBSCRIBE: Accept, no stream id) → framework known (400) → subscribed (403) → stream id (400).
 * Every call is recorded with the status it got.
 */

/** The principal of a valid `Authorization: Basic` header, or undefined. */
function authenticatedPrincipal(world: World, request: HttpRequest): string | undefined {
  const header = request.headers.get('authorization');
  if (header === undefined || !header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const principal = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  return world.options.authentication?.some((c) => c.principal === principal && c.secret === secret) === true
    ? principal
    : undefined;
}

/** Mesos' `validation::scheduler::call::validate`; returns the reason, or undefined. */
function validateCall(call: JsonObject, principal: string | undefined): string | undefined {
  const type = call.type;
  if (typeof type !== 'string' || !SCHEDULER_CALL_TYPES.has(type)) return "Expecting 'type' to be present";
  if (type === 'SUBSCRIBE') {
    const subscribePayload = objectField(call, 'subscribe');
    if (subscribePayload === undefined) return "Expecting 'subscribe' to be present";
    const info = objectField(subscribePayload, 'framework_info') ?? {};
    if (principal !== undefined && typeof info.principal === 'string' && info.principal !== principal) {
      return `Authenticated principal '${principal}' does not match principal '${info.principal}' set in \`FrameworkInfo\``;
    }
    if (idValue(info.id) !== idValue(call.framework_id))
      return "'framework_id' differs from 'subscribe.framework_info.id'";
    return undefined;
  }
  if (idValue(call.framework_id) === undefined) return "Expecting 'framework_id' to be present";
  const payload = SCHEDULER_PAYLOAD[type];
  if (payload !== undefined && objectField(call, payload) === undefined)
    return `Expecting '${payload}' to be present`;
  if (type === 'ACKNOWLEDGE' && !isUuidBytes(objectField(call, 'acknowledge')?.uuid))
    return 'Not a valid UUID';
  return undefined;
}

/** Handles one scheduler API request on the leading master. */
export function handleSchedulerRequest(
  world: World,
  master: MasterServer,
  request: HttpRequest,
  res: HttpResponder,
): void {
  const record = recordCall(world, 'scheduler', String(master.index));
  const fail = (status: number, body: string): void => {
    record.status = status;
    sendText(res, status, body);
  };
  let principal: string | undefined;
  if (world.options.authentication !== undefined) {
    principal = authenticatedPrincipal(world, request);
    if (principal === undefined) {
      record.status = 401;
      sendUnauthorized(res, 'mesos-master-scheduler');
      return;
    }
  }
  if (request.method !== 'POST') {
    record.status = 405;
    sendMethodNotAllowed(res, request.method);
    return;
  }
  const parsed = readCallBody(request, SCHEDULER_CALL);
  if (!parsed.ok) return fail(parsed.status, parsed.body);
  const call = parsed.call;
  Object.assign(record, {
    type: typeof call.type === 'string' ? call.type : undefined,
    frameworkId: idValue(call.framework_id),
    body: call,
  });
  const invalid = validateCall(call, principal);
  if (invalid !== undefined) return fail(400, `Failed to validate scheduler::Call: ${invalid}`);
  const type = call.type as string;
  if (type === 'SUBSCRIBE') {
    if (
      !acceptsMediaType(request, 'application/json') &&
      !acceptsMediaType(request, 'application/x-protobuf')
    ) {
      return fail(406, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'");
    }
    if (!acceptsMediaType(request, 'application/json')) {
      return fail(406, "The fake Mesos master streams events as 'application/json' only");
    }
    if (request.headers.has('mesos-stream-id'))
      return fail(400, "Subscribe calls should not include the 'Mesos-Stream-Id' header");
    record.status = 200;
    subscribe(world, master.port, res, call);
    return;
  }
  if (type === 'UNKNOWN') return fail(501, '');
  const framework = world.frameworks.get(idValue(call.framework_id) ?? '');
  if (framework === undefined || !framework.knownToLeader) return fail(400, 'Framework cannot be found');
  const frameworkPrincipal =
    typeof framework.info.principal === 'string' ? framework.info.principal : undefined;
  if (principal !== undefined && frameworkPrincipal !== undefined && principal !== frameworkPrincipal) {
    return fail(
      400,
      `Authenticated principal '${principal}' does not match principal '${frameworkPrincipal}' set in \`FrameworkInfo\``,
    );
  }
  if (framework.subscription === undefined) return fail(403, 'Framework is not subscribed');
  const streamId = request.headers.get('mesos-stream-id');
  if (streamId === undefined)
    return fail(400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");
  if (streamId !== framework.subscription.streamId) {
    return fail(
      400,
      `The stream ID '${streamId}' included in this request didn't match the stream ID currently associated with framework ID ${framework.id}`,
    );
  }
  if (type === 'UPDATE_FRAMEWORK') {
    const payload = objectField(call, 'update_framework') ?? {};
    const info = objectField(payload, 'framework_info') ?? {};
    if (idValue(info.id) !== framework.id) {
      return fail(
        400,
        "Failed to validate scheduler::Call: 'framework_id' differs from 'update_framework.framework_info.id'",
      );
    }
    const capabilities = capabilitiesOf(info);
    const error = frameworkInfoError(info, capabilities);
    if (error !== undefined) return fail(400, error);
    updateFramework(world, framework, payload, rolesOf(info, capabilities), capabilities);
    record.status = 200;
    res.send(200, [
      ['Date', httpDate()],
      ['Content-Length', '0'],
    ]);
    return;
  }
  record.status = 202;
  sendAccepted(res);
  runCall(world, framework, type, call);
}
