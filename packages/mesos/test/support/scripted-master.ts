/**
 * A purpose-built scheduler endpoint for byte-level cases the fake master cannot produce: each
 * SUBSCRIBE gets the next scripted answer (a status, or a stream the script writes by hand);
 * every other call is recorded and answered 202.
 */
import type { ServerResponse } from 'node:http';
import { encodeRecord } from '@galley/mesos';
import { startTestServer, type SeenRequest, type TestServer } from './http-server.js';

/** How to answer one SUBSCRIBE. */
export type SubscribeScript =
  | { status: number; body?: string; headers?: Record<string, string> }
  | { stream: (response: ServerResponse, request: SeenRequest) => unknown; streamId?: string };

/** A running scripted master. */
export interface ScriptedMaster extends TestServer {
  subscribes(): SeenRequest[];
  calls(): (SeenRequest & { call: { type: string } & Record<string, unknown> })[];
  /** Each non-SUBSCRIBE call's type and when its answer was written, in answer order. */
  answered: { type: string; at: number }[];
}

/** The RecordIO bytes of a SUBSCRIBED event. */
export function subscribedRecord(frameworkId: string, heartbeatIntervalSeconds = 15): Buffer {
  return encodeRecord(
    `{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"${frameworkId}"},"heartbeat_interval_seconds":${heartbeatIntervalSeconds}}}`,
  );
}

/**
 * Starts a scripted master; SUBSCRIBEs beyond the script get a stream that stays silent. Calls are
 * answered with `callStatus(type)` (default 202).
 */
export async function startScriptedMaster(
  script: SubscribeScript[],
  callStatus: (type: string) => number = () => 202,
  callDelayMs: (type: string) => number = () => 0,
): Promise<ScriptedMaster> {
  let next = 0;
  const answered: { type: string; at: number }[] = [];
  const server = await startTestServer(async (request, response) => {
    if (request.method !== 'POST') {
      // e.g. a detector's GET /redirect probe: no leader information here.
      response.writeHead(404).end();
      return;
    }
    const call = JSON.parse(request.body || '{}') as { type?: string };
    if (call.type !== 'SUBSCRIBE') {
      const status = callStatus(call.type ?? '');
      const delay = callDelayMs(call.type ?? '');
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      answered.push({ type: call.type ?? '', at: Date.now() });
      response.writeHead(status, { 'Content-Length': '0' }).end();
      return;
    }
    const step = script[next++] ?? { stream: () => {} };
    if ('status' in step) {
      response
        .writeHead(step.status, { 'Content-Type': 'text/plain; charset=utf-8', ...step.headers })
        .end(step.body ?? '');
      return;
    }
    response.writeHead(200, {
      'Transfer-Encoding': 'chunked',
      'Mesos-Stream-Id': step.streamId ?? `stream-${next}`,
      'Content-Type': 'application/json',
    });
    await step.stream(response, request);
  });
  return {
    ...server,
    answered,
    subscribes: () => server.requests.filter((r) => r.method === 'POST' && r.body.includes('"SUBSCRIBE"')),
    calls: () =>
      server.requests
        .filter((r) => r.method === 'POST' && !r.body.includes('"SUBSCRIBE"'))
        .map((r) => ({ ...r, call: JSON.parse(r.body) as { type: string } & Record<string, unknown> })),
  };
}
