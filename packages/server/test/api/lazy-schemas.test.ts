import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePendingSchemas } from '../../src/api/lazy-schemas.js';
import { startTestServer } from './harness.js';

// Routes' schemas compile at their first request (api/lazy-schemas.ts), not before the server
// listens: every one must still compile, and validation must still answer in the one error shape.

let server: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.stop());

describe('schemas compiled at first use', () => {
  it('answers a bad body with the 400 naming the field, from a validator compiled at that request', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/v1/task',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ alias: 'lazy', command: 'true', memory: 'lots' }),
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: { 'body.memory': expect.any(String) },
    });
  });

  it("compiles every route's validators and serializers without an error", () => {
    // The server has dozens of routes with a body, query, params or response schema each.
    expect(compilePendingSchemas()).toBeGreaterThan(50);
    expect(compilePendingSchemas()).toBe(0);
  });
});
