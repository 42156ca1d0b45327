import { recordCall, type JsonObject, type MasterServer, type World } from '../model/world.js';
import { objectField, readCallBody } from '../wire/call-parsing.js';
import type { HttpRequest, HttpResponder } from '../wire/http-server.js';
import { encodeMesosJson } from '../wire/mesos-json.js';
import { httpDate, sendJson, sendMethodNotAllowed, sendText } from '../wire/responses.js';
import {
  scheduleJson,
  startMaintenance,
  statusJson,
  stopMaintenance,
  updateSchedule,
  type OperatorAnswer,
} from './maintenance.js';

/**
 * `POST /api/v1` (the master's operator API) on the leading master — the maintenance calls only:
 * UPDATE_MAINTENANCE_SCHEDULE, GET_MAINTENANCE_SCHEDULE, START_MAINTENANCE, STOP_MAINTENANCE,
 * GET_MAINTENANCE_STATUS. Answers are 200 (with a JSON body for the GET_ calls), 400 with the
 * reason for a call that is not valid, 501 for the operator calls the fake does not implement.
 * Every call is recorded (`api: 'operator'`).
 */

const IMPLEMENTED = new Set([
  'UPDATE_MAINTENANCE_SCHEDULE',
  'GET_MAINTENANCE_SCHEDULE',
  'START_MAINTENANCE',
  'STOP_MAINTENANCE',
  'GET_MAINTENANCE_STATUS',
]);

/** Handles one operator API request. */
export async function handleOperatorRequest(
  world: World,
  master: MasterServer,
  request: HttpRequest,
  res: HttpResponder,
): Promise<void> {
  const record = recordCall(world, 'operator', String(master.index));
  const fail = (status: number, body: string): void => {
    record.status = status;
    sendText(res, status, body);
  };
  if (request.method !== 'POST') {
    record.status = 405;
    sendMethodNotAllowed(res, request.method);
    return;
  }
  const parsed = readCallBody(request, {});
  if (!parsed.ok) return fail(parsed.status, parsed.body);
  const call = parsed.call;
  const type = typeof call.type === 'string' ? call.type : undefined;
  Object.assign(record, { type, body: call });
  if (type === undefined) return fail(400, "Failed to validate master::Call: Expecting 'type' to be present");
  if (!IMPLEMENTED.has(type)) return fail(501, `The fake Mesos master does not implement ${type}`);
  const answer = await run(world, type, call);
  if (!answer.ok) return fail(answer.status, answer.message);
  record.status = 200;
  if (answer.body !== undefined) {
    sendJson(res, encodeMesosJson(answer.body));
    return;
  }
  res.send(200, [
    ['Date', httpDate()],
    ['Content-Length', '0'],
  ]);
}

async function run(world: World, type: string, call: JsonObject): Promise<OperatorAnswer> {
  switch (type) {
    case 'UPDATE_MAINTENANCE_SCHEDULE':
      return updateSchedule(world, objectField(call, 'update_maintenance_schedule'));
    case 'START_MAINTENANCE':
      return startMaintenance(world, objectField(call, 'start_maintenance'));
    case 'STOP_MAINTENANCE':
      return stopMaintenance(world, objectField(call, 'stop_maintenance'));
    case 'GET_MAINTENANCE_SCHEDULE':
      return { ok: true, body: scheduleJson(world) };
    default:
      return { ok: true, body: statusJson(world) };
  }
}
