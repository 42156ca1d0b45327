import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer } from './harness.js';

// List endpoints take only the parameters they document. Flotilla treats any run field as an
// equality filter, so a misspelt or unsupported one (`queued_at_from` for `queued_after`) must not
// be ignored, which would answer the whole history as if it matched: it is a 400 naming it.
// Every documented filter keeps filtering.

let server: Awaited<ReturnType<typeof startTestServer>>;
const get = (url: string) => server.app.inject({ method: 'GET', url });
const ids = async (url: string) => {
  const res = await get(url);
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return (res.json() as { history: { run_id: string }[] }).history.map((r) => r.run_id).sort();
};

interface Run {
  run_id: string;
  definition_id: string;
  queued_at: string;
}
let a: Run; // task filter-a, owner alice, exit 0, env COLOR=red, key k-a
let b: Run; // task filter-a, owner bob, exit 3
let c: Run; // task filter-b (group other, image img-b), owner alice, exit 0
let defA: string;

beforeAll(async () => {
  server = await startTestServer({ cpus: 4 });
  const define = async (body: Record<string, unknown>) => {
    const res = await server.app.inject({ method: 'POST', url: '/api/v1/task', payload: body });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { definition_id: string };
  };
  defA = (
    await define({
      alias: 'filter-a',
      group_name: 'grp',
      image: 'img-a',
      command: 'true',
      cpu: 10,
      memory: 1,
    })
  ).definition_id;
  await define({
    alias: 'filter-b',
    group_name: 'other',
    image: 'img-b',
    command: 'true',
    cpu: 10,
    memory: 1,
  });
  const execute = async (alias: string, body: Record<string, unknown>) => {
    const res = await server.app.inject({
      method: 'PUT',
      url: `/api/v1/task/alias/${alias}/execute`,
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(200);
    const run = res.json() as Run;
    await eventually(async () =>
      (await get(`/api/v1/history/${run.run_id}`)).json().status === 'STOPPED' ? true : undefined,
    );
    return run;
  };
  a = await execute('filter-a', {
    run_tags: { owner_id: 'alice' },
    env: [{ name: 'COLOR', value: 'red' }],
    idempotence_key: 'k-a',
  });
  b = await execute('filter-a', { run_tags: { owner_id: 'bob' }, command: 'exit 3' });
  c = await execute('filter-b', { run_tags: { owner_id: 'alice' } });
});
afterAll(async () => server?.stop());

describe('history and definition lists', () => {
  it.each([
    ['/api/v1/history?queued_at_from=2020-01-01', 'query.queued_at_from'],
    ['/api/v1/history?status=STOPPED&colour=red', 'query.colour'],
    ['/api/v6/history?queued_at_from=2020-01-01', 'query.queued_at_from'],
    ['/api/v1/task/DEF/history?started_at=1', 'query.started_at'],
    ['/api/v1/task?owner_id=alice', 'query.owner_id'],
    ['/api/v1/stream?alias=filter-a', 'query.alias'],
  ])('answers %s with a 400 naming the unknown parameter', async (url, field) => {
    const res = await get(url.replace('DEF', defA));
    expect(res.statusCode).toBe(400);
    const body = res.json() as { code: string; message: string; fields: Record<string, string> };
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.fields).toEqual({ [field]: 'is not a known field' });
    expect(body.message).toContain(field);
  });

  it('keeps every documented run filter working', async () => {
    const all = [a, b, c].map((r) => r.run_id).sort();
    const only = (...runs: Run[]) => runs.map((r) => r.run_id).sort();
    expect(await ids('/api/v1/history')).toEqual(all);
    expect(await ids(`/api/v1/history?run_id=${b.run_id}`)).toEqual(only(b));
    expect(await ids(`/api/v1/history?definition_id=${defA}`)).toEqual(only(a, b));
    expect(await ids(`/api/v1/task/${defA}/history?owner_id=bob`)).toEqual(only(b));
    expect(await ids('/api/v1/history?alias=filter-b')).toEqual(only(c));
    expect(await ids('/api/v1/history?group_name=grp')).toEqual(only(a, b));
    expect(await ids('/api/v1/history?image=img-b')).toEqual(only(c));
    expect(await ids('/api/v1/history?cluster=local')).toEqual(all);
    expect(await ids('/api/v1/history?cluster=elsewhere')).toEqual([]);
    expect(await ids('/api/v1/history?owner_id=alice')).toEqual(only(a, c));
    expect(await ids('/api/v1/history?exit_code=3')).toEqual(only(b));
    expect(await ids('/api/v1/history?attempt_count=1')).toEqual(all);
    expect(await ids('/api/v1/history?idempotence_key=k-a')).toEqual(only(a));
    expect(await ids('/api/v1/history?engine=local')).toEqual(all);
    expect(await ids('/api/v1/history?status=STOPPED&status=QUEUED')).toEqual(all);
    expect(await ids('/api/v1/history?status=RUNNING')).toEqual([]);
    expect(await ids('/api/v1/history?env=COLOR%7Cred')).toEqual(only(a));
    const first = Date.parse(a.queued_at);
    const last = Date.parse(c.queued_at);
    expect(await ids(`/api/v1/history?queued_after=${new Date(last).toISOString()}`)).toEqual(only(c));
    expect(await ids(`/api/v1/history?queued_before=${first}`)).toEqual(only(a));
    const page = (await get('/api/v1/history?sort_by=queued_at&order=asc&limit=1&offset=1')).json();
    expect(page).toMatchObject({ total: 3, limit: 1, offset: 1, sort_by: 'queued_at', order: 'asc' });
    expect(page.history.map((r: Run) => r.run_id)).toEqual([b.run_id]);
  });

  it('keeps every documented definition filter working', async () => {
    const aliases = async (url: string) =>
      ((await get(url)).json() as { definitions: { alias: string }[] }).definitions.map((d) => d.alias);
    expect(await aliases('/api/v1/task?alias=filter-b')).toEqual(['filter-b']);
    expect(await aliases('/api/v1/task?group_name=grp')).toEqual(['filter-a']);
    expect(await aliases('/api/v1/task?image=img-b')).toEqual(['filter-b']);
    expect(await aliases(`/api/v1/task?definition_id=${defA}`)).toEqual(['filter-a']);
    expect(await aliases('/api/v1/task?sort_by=alias&order=desc&limit=1')).toEqual(['filter-b']);
  });
});
