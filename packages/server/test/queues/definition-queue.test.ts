import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../api/harness.js';

// A definition's default queue: an execute that names no queue goes to it, one that names a queue
// goes there; the field is checked (a queue that exists, a bounded name) and can be cleared.

type Server = Awaited<ReturnType<typeof startTestServer>>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: Server;
beforeAll(async () => {
  server = await startTestServer({ cpus: 1 });
});
afterAll(() => server?.stop());

async function call(method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) {
  const res = await server.app.inject({ method, url: `/api/v1${url}`, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as Json };
}

const execute = (alias: string, extra: Json = {}) =>
  call('PUT', `/task/alias/${alias}/execute`, { run_tags: { owner_id: 'alice' }, ...extra });

describe("a definition's default queue", () => {
  it('sends an execute that names no queue to it, and one that names a queue to that one', async () => {
    expect((await call('PUT', '/queues/batch', { priority: 1 })).status).toBe(200);
    const def = await call('POST', '/task', { alias: 'nightly', command: 'true', queue: 'batch' });
    expect(def.status).toBe(200);
    expect(def.body['queue']).toBe('batch');
    expect((await call('GET', `/task/${def.body['definition_id']}`)).body['queue']).toBe('batch');

    const plain = await execute('nightly');
    expect(plain.status).toBe(200);
    expect(plain.body['queue']).toBe('batch');
    expect((await execute('nightly', { queue: 'default' })).body['queue']).toBe('default');
    // An array goes there whole: the parent and each child.
    const array = await execute('nightly', { array_size: 2 });
    expect(array.body['queue']).toBe('batch');
    const children = (await call('GET', `/history/${array.body['run_id']}/children`)).body[
      'history'
    ] as Json[];
    expect(children.map((c) => c['queue'])).toEqual(['batch', 'batch']);

    // Cleared: the default queue again; absent in an update: kept.
    const kept = await call('PUT', `/task/${def.body['definition_id']}`, { command: 'echo kept' });
    expect(kept.body['queue']).toBe('batch');
    const cleared = await call('PUT', `/task/${def.body['definition_id']}`, { queue: null });
    expect(cleared.body['queue']).toBeNull();
    expect((await execute('nightly')).body['queue']).toBe('default');
  });

  it('refuses a queue that does not exist (422) and a name out of bounds (400), naming the field', async () => {
    const unknown = await call('POST', '/task', { alias: 'typo', command: 'true', queue: 'bacth' });
    expect(unknown.status).toBe(422);
    expect(unknown.body['fields']).toEqual({
      'body.queue': expect.stringMatching(/is not a queue \(default/),
    });
    const def = await call('POST', '/task', { alias: 'plain', command: 'true' });
    const update = await call('PUT', `/task/${def.body['definition_id']}`, { queue: 'nope' });
    expect(update.status).toBe(422);
    expect(Object.keys(update.body['fields'])).toEqual(['body.queue']);
    for (const queue of ['x'.repeat(101), '', '-leading']) {
      const bad = await call('POST', '/task', { alias: 'bounds', command: 'true', queue });
      expect(bad.status, queue).toBe(400);
      expect(JSON.stringify(bad.body['fields'] ?? bad.body), queue).toContain('queue');
    }
    expect(def.body['queue']).toBeNull();
  });
});
