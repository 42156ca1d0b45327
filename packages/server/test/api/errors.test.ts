import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GalleyServer } from '../../src/app.js';
import { startTestServer } from './harness.js';

// Bad input is answered with a clear 4xx `{code, message, fields?}`, never a 500.

let server: GalleyServer & { stop(): Promise<void> };
let runId: string;
beforeAll(async () => {
  server = await startTestServer();
  const inject = server.app.inject.bind(server.app);
  await inject({ method: 'POST', url: '/api/v1/task', payload: { alias: 'taken', command: 'true' } });
  await inject({ method: 'POST', url: '/api/v1/task', payload: { alias: 'no-command' } });
  const run = await inject({
    method: 'PUT',
    url: '/api/v1/task/alias/taken/execute',
    payload: { run_tags: { owner_id: 'me' } },
  });
  runId = run.json().run_id;
});
afterAll(async () => server?.stop());

interface Case {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string | (() => string);
  body?: string | object;
  contentType?: string;
  status: number;
  code: string;
  field?: string;
}

const cases: Case[] = [
  {
    name: 'malformed JSON',
    method: 'POST',
    url: '/api/v1/task',
    body: '{"alias": ',
    contentType: 'application/json',
    status: 400,
    code: 'BAD_JSON',
  },
  {
    name: 'unknown field',
    method: 'POST',
    url: '/api/v1/task',
    body: { alias: 'x1', colour: 'red' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.colour',
  },
  {
    name: 'wrong type',
    method: 'POST',
    url: '/api/v1/task',
    body: { alias: 'x2', memory: 'lots' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.memory',
  },
  {
    name: 'missing alias',
    method: 'POST',
    url: '/api/v1/task',
    body: { command: 'true' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.alias',
  },
  {
    name: 'alias with a space',
    method: 'POST',
    url: '/api/v1/task',
    body: { alias: 'a b' },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.alias',
  },
  {
    name: 'env not {name,value}',
    method: 'POST',
    url: '/api/v1/task',
    body: { alias: 'x3', env: [{ KEY: 'v' }] },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.env.0.name',
  },
  {
    name: 'negative memory',
    method: 'POST',
    url: '/api/v1/task',
    body: { alias: 'x4', memory: -1 },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.memory',
  },
  {
    name: 'duplicate alias',
    method: 'POST',
    url: '/api/v1/task',
    body: { alias: 'taken' },
    status: 409,
    code: 'DUPLICATE_ALIAS',
    field: 'body.alias',
  },
  {
    name: 'a body that is not JSON, in plain text',
    method: 'POST',
    url: '/api/v1/task',
    body: 'alias=x',
    contentType: 'text/plain',
    status: 400,
    code: 'BAD_JSON',
    field: 'body',
  },
  {
    name: 'a body that is not JSON, of another media type',
    method: 'POST',
    url: '/api/v1/task',
    body: '<alias/>',
    contentType: 'application/xml',
    status: 400,
    code: 'BAD_JSON',
    field: 'body',
  },
  {
    name: 'a body that is not JSON, with a content-type that is no media type',
    method: 'POST',
    url: '/api/v1/task',
    body: 'alias: x9',
    contentType: 'not a media type',
    status: 400,
    code: 'BAD_JSON',
    field: 'body',
  },
  {
    name: 'execute without run_tags',
    method: 'PUT',
    url: '/api/v1/task/alias/taken/execute',
    body: {},
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.run_tags',
  },
  {
    name: 'execute without owner_id',
    method: 'PUT',
    url: '/api/v1/task/alias/taken/execute',
    body: { run_tags: {} },
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'body.run_tags.owner_id',
  },
  {
    name: 'execute on an unknown cluster',
    method: 'PUT',
    url: '/api/v1/task/alias/taken/execute',
    body: { run_tags: { owner_id: 'me' }, cluster: 'mars' },
    status: 422,
    code: 'UNKNOWN_CLUSTER',
    field: 'body.cluster',
  },
  {
    name: 'execute of an unknown alias',
    method: 'PUT',
    url: '/api/v1/task/alias/ghost/execute',
    body: { run_tags: { owner_id: 'me' } },
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'execute with nothing to run',
    method: 'PUT',
    url: '/api/v1/task/alias/no-command/execute',
    body: { run_tags: { owner_id: 'me' } },
    status: 422,
    code: 'NO_COMMAND',
    field: 'body.command',
  },
  {
    name: 'limit not a number',
    method: 'GET',
    url: '/api/v1/history?limit=abc',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'query.limit',
  },
  {
    name: 'sort by an unknown column',
    method: 'GET',
    url: '/api/v1/history?sort_by=password',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'query.sort_by',
  },
  {
    name: 'unknown status',
    method: 'GET',
    url: '/api/v1/history?status=DONE',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'query.status.0',
  },
  {
    name: 'unknown query parameter',
    method: 'GET',
    url: '/api/v1/history?colour=red',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'query.colour',
  },
  {
    name: 'env filter without |',
    method: 'GET',
    url: '/api/v1/history?env=COLOR',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'query.env.0',
  },
  {
    name: 'unparsable time',
    method: 'GET',
    url: '/api/v1/history?queued_after=yesterday',
    status: 400,
    code: 'VALIDATION_FAILED',
    field: 'query.queued_after',
  },
  { name: 'unknown run', method: 'GET', url: '/api/v1/history/ghost', status: 404, code: 'NOT_FOUND' },
  {
    name: 'status of an unknown run',
    method: 'GET',
    url: '/api/v1/ghost/status',
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'logs with a forged token',
    method: 'GET',
    url: () => `/api/v1/${runId}/logs?last_seen=Zm9yZ2Vk`,
    status: 400,
    code: 'BAD_LAST_SEEN',
    field: 'query.last_seen',
  },
  { name: 'unknown definition', method: 'GET', url: '/api/v1/task/ghost', status: 404, code: 'NOT_FOUND' },
  {
    name: 'delete of an unknown definition',
    method: 'DELETE',
    url: '/api/v1/task/ghost',
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'stop of an unknown run',
    method: 'DELETE',
    url: '/api/v1/task/ghost/history/ghost',
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'unknown API route',
    method: 'GET',
    url: '/api/v1/nothing/here/at/all',
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'body too large',
    method: 'POST',
    url: '/api/v1/task',
    body: { alias: 'big', command: 'x'.repeat(2 * 1024 * 1024) },
    status: 413,
    code: 'BODY_TOO_LARGE',
  },
];

describe('bad input is a clear 4xx', () => {
  it.each(cases)('$name → $status $code', async (c) => {
    const url = typeof c.url === 'function' ? c.url() : c.url;
    const payload =
      c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
    const res = await server.app.inject({
      method: c.method,
      url,
      ...(payload === undefined
        ? {}
        : { payload, headers: { 'content-type': c.contentType ?? 'application/json' } }),
    });
    expect(res.statusCode, res.body).toBe(c.status);
    const body = res.json();
    expect(body.code).toBe(c.code);
    expect(typeof body.message).toBe('string');
    expect(body.message.length).toBeGreaterThan(5);
    if (c.field) expect(Object.keys(body.fields ?? {})).toContain(c.field);
  });
});
