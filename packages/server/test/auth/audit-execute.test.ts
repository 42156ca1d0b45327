import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startTestServer } from '../api/harness.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: Server | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('audit log of executes', { timeout: 120_000 }, () => {
  it("stores an accepted execute's entry with its run — there once the answer is — and a refused one after", async () => {
    server = await startTestServer();
    const s = server;
    const call = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) => {
      const res = await s.app.inject({ method, url: `/api/v1${url}`, ...(payload ? { payload } : {}) });
      return { status: res.statusCode, body: res.json() as Json };
    };
    const audit = async () => (await call('GET', '/audit?method=PUT&limit=100')).body['entries'] as Json[];
    const def = await call('POST', '/task', {
      alias: 'audited',
      group_name: 'g',
      memory: 64,
      command: 'true',
    });
    expect(def.status).toBe(200);
    // Executes that go into one insert together, one of them a repeat of an idempotence key.
    const body = { run_tags: { owner_id: 'alice' } };
    const answers = await Promise.all([
      call('PUT', '/task/alias/audited/execute', body),
      call('PUT', '/task/alias/audited/execute', { ...body, idempotence_key: 'k1' }),
      call('PUT', '/task/alias/audited/execute', { ...body, idempotence_key: 'k1' }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const stored = (await audit()).filter((e) => e['status'] === 200);
    expect(stored).toHaveLength(3);
    expect(stored[0]).toMatchObject({
      method: 'PUT',
      route: '/api/v1/task/alias/:alias/execute',
      path: '/api/v1/task/alias/audited/execute',
      ids: { alias: 'audited' },
      ip: '127.0.0.1',
    });
    // A refused execute is written after its answer; once it is there, the accepted ones are
    // still there once each (not written a second time after their answers).
    expect((await call('PUT', '/task/alias/nothing-here/execute', body)).status).toBe(404);
    const after = await eventually(async () => {
      const list = await audit();
      return list.some((e) => e['status'] === 404) ? list : undefined;
    });
    expect(after.filter((e) => e['status'] === 200)).toHaveLength(3);
    expect(after.find((e) => e['status'] === 404)).toMatchObject({
      route: '/api/v1/task/alias/:alias/execute',
      ids: { alias: 'nothing-here' },
    });
  });
});
