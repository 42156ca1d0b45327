import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELLO_EXECUTE, HELLO_WORLD, startTestServer } from './harness.js';
import { operationsOf } from './openapi-operations.js';

// Issue 12's reproductions, each once a 500, a 414 in fastify's shape, or worse: bad input is a
// 4xx naming the field, in the one error shape, and never echoes the URL.

let server: Awaited<ReturnType<typeof startTestServer>>;
let definitionId: string;
let runId: string;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const send = (method: Method, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  server.app.inject({
    method,
    url,
    headers,
    ...(payload === undefined
      ? {}
      : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
  });
const json = (method: Method, url: string, payload?: unknown) =>
  send(method, url, payload, { 'content-type': 'application/json' });

/** A 400 naming `field`, in the one shape. */
async function expectFieldError(
  res: Awaited<ReturnType<typeof send>>,
  field: string,
  problem = /NUL|surrogate/,
) {
  expect(res.statusCode, res.body).toBe(400);
  const body = res.json();
  expect(Object.keys(body).sort()).toEqual(['code', 'fields', 'message']);
  expect(body.code).toBe('VALIDATION_FAILED');
  expect(body.fields[field], JSON.stringify(body.fields)).toMatch(problem);
}

beforeAll(async () => {
  server = await startTestServer();
  const def = (await json('POST', '/api/v1/task', HELLO_WORLD)).json();
  definitionId = def.definition_id;
  runId = (await json('PUT', `/api/v1/task/${definitionId}/execute`, HELLO_EXECUTE)).json().run_id;
});
afterAll(async () => server?.stop());

describe('NUL and lone surrogates (issue 12 items 3 and 4)', () => {
  it('a NUL in any path id is a 400 naming the parameter, on every route that takes one', async () => {
    const doc = (await send('GET', '/api/openapi.json')).json();
    const routes = operationsOf(doc).filter((op) => op.pathParams.length > 0);
    expect(routes.length).toBeGreaterThanOrEqual(15);
    for (const op of routes) {
      const url = op.path.replace(/\{[^}]+\}/g, '%00');
      const res = await send(op.method as Method, url);
      expect(res.statusCode, `${op.method} ${url}: ${res.body}`).toBe(400);
      expect(Object.keys(res.json().fields ?? {})[0], `${op.method} ${url}`).toMatch(/^params\./);
    }
    await expectFieldError(await send('GET', '/api/v1/history/%00'), 'params.run_id');
  });

  it('a bad id never fails the valid requests beside it', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => send('GET', `/api/v1/history/${i % 2 ? runId : '%00'}`)),
    );
    expect(answers.filter((r, i) => r.statusCode !== (i % 2 ? 200 : 400))).toEqual([]);
  });

  it.each([
    ['run_tags.owner_id', { run_tags: { owner_id: 'me\u0000' } }],
    ['description', { run_tags: { owner_id: 'me' }, description: 'a\u0000b' }],
    ['env.0.value', { run_tags: { owner_id: 'me' }, env: [{ name: 'A', value: '\u0000' }] }],
    ['env.0.value', { run_tags: { owner_id: 'me' }, env: [{ name: 'A', value: 'x\ud800' }] }],
    ['command', { run_tags: { owner_id: 'me' }, command: 'echo \u0000' }],
    ['idempotence_key', { run_tags: { owner_id: 'me' }, idempotence_key: 'k\u0000' }],
    ['run_tags.team', { run_tags: { owner_id: 'me', team: '\udc00' } }],
    ['cluster', { run_tags: { owner_id: 'me' }, cluster: '\u0000' }],
  ])('an execute with NUL or a lone surrogate in %s is a 400 naming it', async (field, body) => {
    await expectFieldError(await json('PUT', `/api/v1/task/${definitionId}/execute`, body), `body.${field}`);
  });

  it('an execute with NUL in a run tag name is a 400 naming it', async () => {
    const res = await json('PUT', `/api/v1/task/${definitionId}/execute`, {
      run_tags: { owner_id: 'me', 'a\u0000': 'x' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
  });

  it.each([
    ['group_name', { alias: 'nul-1', group_name: 'g\u0000' }],
    ['image', { alias: 'nul-2', image: '\u0000' }],
    ['command', { alias: 'nul-3', command: 'true\u0000' }],
    ['env.0.value', { alias: 'nul-4', env: [{ name: 'A', value: '\ud800' }] }],
    ['tags.0', { alias: 'nul-5', tags: ['\ud800'] }],
    ['target_cluster', { alias: 'nul-6', target_cluster: 'x\u0000' }],
    ['constraints.0', { alias: 'nul-7', constraints: ['zone:\u0000'] }],
  ])('a definition with NUL or a lone surrogate in %s is a 400 naming it', async (field, body) => {
    await expectFieldError(await json('POST', '/api/v1/task', body), `body.${field}`);
  });

  it.each([
    ['labels.team', { labels: { team: 'x\ud800' } }],
    ['environment.A', { environment: { A: '\u0000' } }],
    [
      'processes.w.command',
      { processes: { w: { id: 'w', command: 'a\u0000', resources: { cpu: 0.1, mem: 1 } } } },
    ],
  ])('a pipeline with NUL or a lone surrogate in %s is a 400 naming it', async (field, change) => {
    const body = {
      id: 'nul',
      processes: { w: { id: 'w', command: 'true', resources: { cpu: 0.1, mem: 1 } } },
      ...change,
    };
    await expectFieldError(await json('POST', '/pipelines', body), `body.${field}`);
  });

  it('a query value with NUL is a 400 naming it; the UTF-8 of a lone surrogate decodes to no surrogate', async () => {
    await expectFieldError(await send('GET', '/api/v1/history?owner_id=%00'), 'query.owner_id');
    await expectFieldError(await send('GET', '/api/v1/task?alias=a%00'), 'query.alias');
    expect((await send('GET', '/api/v1/task?alias=%ED%A0%80')).statusCode).toBe(200);
  });
});

describe('bounds (issue 12 items 1, 2 and 4)', () => {
  it('a body nested 6,000 levels is a 400, not a stack overflow', async () => {
    const deep = '{"a":'.repeat(6_000) + '1' + '}'.repeat(6_000);
    const res = await send(
      'POST',
      '/pipelines',
      `{"id":"deep","processes":{"a":{"command":"true","resources":{"cpu":0.1,"mem":1}}},"update_strategy":${deep}}`,
      { 'content-type': 'application/json' },
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'BODY_TOO_DEEP',
      fields: { body: expect.stringMatching(/32/) },
    });
    expect(
      (await send('PUT', `/api/v1/task/${definitionId}`, '['.repeat(6_000) + ']'.repeat(6_000))).statusCode,
    ).toBe(400);
  });

  it('a pipeline of 1e9 instances or with a 5,000-character id is a 400 naming the field', async () => {
    const process = { a: { command: 'sleep 1000', resources: { cpu: 0.1, mem: 1 } } };
    const huge = await json('POST', '/pipelines', { id: 'hugeinst', instances: 1e9, processes: process });
    await expectFieldError(huge, 'body.instances', /≤ 1000/);
    const long = await json('POST', '/pipelines', { id: 'p'.repeat(5_000), processes: process });
    await expectFieldError(long, 'body.id', /63/);
  });

  it('an alias of 101 to 200 characters can be created, read, run and deleted through its path', async () => {
    const alias = `a${'l'.repeat(179)}`;
    const created = await json('POST', '/api/v1/task', { alias, command: 'true' });
    expect(created.statusCode, created.body).toBe(200);
    expect((await send('GET', `/api/v1/task/alias/${alias}`)).statusCode).toBe(200);
    const run = await json('PUT', `/api/v1/task/alias/${alias}/execute`, { run_tags: { owner_id: 'me' } });
    expect(run.statusCode, run.body).toBe(200);
    expect((await send('DELETE', `/api/v1/task/${created.json().definition_id}`)).json()).toEqual({
      deleted: true,
    });
    await expectFieldError(
      await json('POST', '/api/v1/task', { alias: 'x'.repeat(201) }),
      'body.alias',
      /200/,
    );
  });

  it('a number that is not finite (1e309 in a query) is a 400, not a 500 from the store', async () => {
    await expectFieldError(await send('GET', '/api/v1/history?offset=1e309'), 'query.offset', /finite/);
    await expectFieldError(
      await send('GET', '/api/v1/history?exit_code=-1e309'),
      'query.exit_code',
      /finite/,
    );
    await expectFieldError(
      await send('GET', '/api/v1/history?queued_after=99999999999999999999'),
      'query.queued_after',
      /time/,
    );
  });
});

describe("fastify's own errors in the one shape, without the URL (issue 12 item 7)", () => {
  const shapeWithoutUrl = (res: Awaited<ReturnType<typeof send>>, url: string) => {
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(
      Object.keys(body)
        .filter((k) => k !== 'fields')
        .sort(),
    ).toEqual(['code', 'message']);
    expect(res.body).not.toContain(url.split('?')[0]!.slice(-40));
    return body;
  };

  it('a path segment longer than any id is a 414', async () => {
    const url = `/api/v1/history/${'r'.repeat(257)}`;
    const res = await send('GET', url);
    expect(res.statusCode).toBe(414);
    expect(shapeWithoutUrl(res, url)).toMatchObject({ code: 'URI_TOO_LONG' });
    // Within the bound, the route answers.
    expect((await send('GET', `/api/v1/history/${'r'.repeat(256)}`)).statusCode).toBe(404);
  });

  it('a malformed %-escape in the path is a 400', async () => {
    const url = '/api/v1/history/%zz-not-an-escape';
    const res = await send('GET', url);
    expect(res.statusCode).toBe(400);
    expect(shapeWithoutUrl(res, url)).toMatchObject({ code: 'BAD_URL' });
  });

  it('an unknown route is a 404 that does not repeat its path', async () => {
    const url = '/api/v1/no/such/route/with-a-long-and-telling-name';
    const res = await send('GET', url);
    expect(res.statusCode).toBe(404);
    expect(shapeWithoutUrl(res, url)).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a body over 1 MiB is a 413; broken JSON a 400 saying where', async () => {
    const big = await json('POST', '/api/v1/task', { alias: 'big', command: 'x'.repeat(2 * 1024 * 1024) });
    expect(big.statusCode).toBe(413);
    expect(shapeWithoutUrl(big, '/api/v1/task')).toMatchObject({ code: 'BODY_TOO_LARGE' });
    const broken = await send('POST', '/api/v1/task', '{"alias": ', { 'content-type': 'application/json' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({ code: 'BAD_JSON', fields: { body: 'is not valid JSON' } });
    expect(broken.json().message).toMatch(/JSON/);
  });
});

describe('errors that say what happened (issue 12 item 7)', () => {
  it('the history of an unknown definition is a 404; a deleted one with runs keeps its history', async () => {
    const res = await send('GET', '/api/v1/task/no-such-definition/history');
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
    const def = (await json('POST', '/api/v1/task', { alias: 'soon-gone', command: 'true' })).json();
    await json('PUT', `/api/v1/task/${def.definition_id}/execute`, { run_tags: { owner_id: 'me' } });
    await send('DELETE', `/api/v1/task/${def.definition_id}`);
    const kept = await send('GET', `/api/v1/task/${def.definition_id}/history`);
    expect(kept.statusCode).toBe(200);
    expect(kept.json().total).toBe(1);
  });

  it("stopping or reading a run through another definition's path says whose run it is", async () => {
    const other = (await json('POST', '/api/v1/task', { alias: 'another', command: 'true' })).json();
    for (const method of ['DELETE', 'GET'] as const) {
      const res = await send(method, `/api/v1/task/${other.definition_id}/history/${runId}`);
      expect(res.statusCode).toBe(404);
      const body = res.json();
      expect(body.code).toBe('RUN_OF_ANOTHER_DEFINITION');
      expect(body.message).toContain(HELLO_WORLD.alias);
      expect(body.message).toContain(definitionId);
      expect(body.message).not.toMatch(/does not exist/);
    }
  });
});
