import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer } from '../api/harness.js';

import { apiCaller, type Server } from './harness.js';

/** Retry strategies, retention and webhooks through the API of an in-process server with real processes. */
describe('retry strategies, retention and webhooks', () => {
  let server: Server;
  const call = apiCaller(() => server);
  const define = async (body: Record<string, unknown>) => {
    const res = await call('POST', '/api/v1/task', { memory: 64, cpu: 10, ...body });
    expect(res.status).toBe(200);
    return res.body;
  };
  const execute = async (def: string, extra: Record<string, unknown> = {}) =>
    (await call('PUT', `/api/v1/task/${def}/execute`, { run_tags: { owner_id: 'me' }, ...extra })).body;
  const ended = (runId: string) =>
    eventually(async () => {
      const r = await call('GET', `/api/v1/history/${runId}`);
      return r.body['status'] === 'STOPPED' ? r.body : undefined;
    });

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('retry strategy', () => {
    const strategy = {
      attempts: 3,
      backoff: { initial_seconds: 0.05, factor: 1, max_seconds: 1 },
      evaluate_on_exit: [
        { on_exit_code: '3', action: 'retry' },
        { on_exit_code: '*', action: 'exit' },
      ],
    };

    it("retries exit code 3 up to the definition's attempts, each retry in the timeline with its rule", async () => {
      const def = await define({ alias: 'retry-3', command: 'exit 3', retry_strategy: strategy });
      expect(def['retry_strategy']).toEqual(strategy);
      const run = await ended((await execute(def['definition_id']))['run_id']);
      expect(run).toMatchObject({ attempt_count: 3, exit_code: 3, retry_strategy: strategy });
      expect(run['exit_reason']).toContain('gave up after 3 of 3 attempts');
      const timeline = (await call('GET', `/api/v1/${run['run_id']}/events`)).body;
      const retries = (timeline['events'] as { status: string; reason: string }[]).filter(
        (e) => e.status === 'NEEDS_RETRY',
      );
      expect(retries).toHaveLength(2);
      for (const e of retries)
        expect(e.reason).toContain('exited with code 3; retrying by rule 1 (on_exit_code 3 → retry)');
    });

    it('does not retry exit code 1', async () => {
      const def = await define({ alias: 'retry-1', command: 'exit 1', retry_strategy: strategy });
      const run = await ended((await execute(def['definition_id']))['run_id']);
      expect(run).toMatchObject({ attempt_count: 1, exit_code: 1 });
      expect(run['exit_reason']).toContain('rule 2');
    });

    it("an execute's strategy overrides the definition's", async () => {
      const def = await define({ alias: 'retry-exec', command: 'exit 3', retry_strategy: strategy });
      const run = await ended(
        (await execute(def['definition_id'], { retry_strategy: { attempts: 2 } }))['run_id'],
      );
      expect(run['attempt_count']).toBe(2);
      expect(run['retry_strategy']).toMatchObject({
        attempts: 2,
        evaluate_on_exit: strategy.evaluate_on_exit,
      });
    });

    it('retries a run stopped at its active deadline when a rule names deadline', async () => {
      const def = await define({
        alias: 'retry-deadline',
        command: 'sleep 60',
        active_deadline_seconds: 1,
        retry_strategy: {
          attempts: 2,
          backoff: { initial_seconds: 0.05 },
          evaluate_on_exit: [{ on_reason: 'deadline', action: 'retry' }],
        },
      });
      const run = await ended((await execute(def['definition_id']))['run_id']);
      expect(run['attempt_count']).toBe(2);
      expect(run['exit_reason']).toContain('active deadline of 1 s exceeded');
    });

    it('refuses a bad strategy, naming the field', async () => {
      const res = await call('POST', '/api/v1/task', {
        alias: 'retry-bad',
        command: 'true',
        retry_strategy: { attempts: 11 },
      });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body['fields'])).toContain('retry_strategy');
    });
  });

  it('retention prunes finished runs past their time to live, with their log files; keeps the others', async () => {
    const short = await define({ alias: 'keep-1-day', command: 'echo pruned-output', retention_days: 1 });
    const forever = await define({ alias: 'keep-forever', command: 'echo kept', retention_days: 0 });
    const a = await ended((await execute(short['definition_id']))['run_id']);
    const b = await ended((await execute(forever['definition_id']))['run_id']);
    const logs = (await call('GET', `/api/v1/${a['run_id']}/logs`)).body;
    expect(JSON.stringify(logs)).toContain('pruned-output');
    const dirA = join(server.dataDir, 'runs', a['run_id']);
    expect(existsSync(dirA)).toBe(true);
    const now = Date.now();
    // Not yet a day old: kept.
    expect(await server.automation.pruner.prune(now)).toBe(0);
    const pruned = await server.automation.pruner.prune(now + 2 * 86_400_000);
    expect(pruned).toBeGreaterThanOrEqual(1);
    expect((await call('GET', `/api/v1/history/${a['run_id']}`)).status).toBe(404);
    expect((await call('GET', `/api/v1/${a['run_id']}/events`)).status).toBe(404);
    expect(existsSync(dirA)).toBe(false);
    expect((await call('GET', `/api/v1/history/${b['run_id']}`)).status).toBe(200);
    expect(existsSync(join(server.dataDir, 'runs', b['run_id']))).toBe(true);
  });

  describe('webhooks', () => {
    let receiver: HttpServer;
    let url: string;
    const received: { headers: Record<string, string>; body: string }[] = [];
    let failures = 1;

    beforeAll(async () => {
      receiver = createServer((req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          // The first delivery fails: it must be retried, and nothing after it overtakes it.
          if (failures > 0) {
            failures--;
            res.writeHead(500).end();
            return;
          }
          received.push({ headers: req.headers as Record<string, string>, body });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    });
    afterAll(async () => {
      await new Promise((resolve) => receiver.close(resolve));
    });

    it('delivers each transition once, in order, signed, after retrying a failed delivery', async () => {
      // It runs a while, so its start and its end are stored apart (each stored change is one event).
      const def = await define({ alias: 'hooked', command: 'sleep 1; echo hi' });
      const created = await call('POST', '/api/v1/webhooks', { url, definition_id: def['definition_id'] });
      expect(created.status).toBe(200);
      const secret = created.body['secret'] as string;
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      const id = created.body['webhook_id'] as string;
      expect(JSON.stringify((await call('GET', '/api/v1/webhooks')).body)).not.toContain(secret);

      const other = await define({ alias: 'not-hooked', command: 'true' });
      await ended((await execute(other['definition_id']))['run_id']);
      const run = await ended((await execute(def['definition_id']))['run_id']);
      const events = await eventually(async () => {
        const mine = received.map((r) => JSON.parse(r.body)).filter((b) => b.run.run_id === run['run_id']);
        return mine.some((b) => b.event === 'run.stopped') ? mine : undefined;
      });
      expect(events.map((e) => e.event)).toEqual(['run.queued', 'run.pending', 'run.running', 'run.stopped']);
      const sequences = events.map((e) => e.sequence as number);
      expect([...sequences].sort((x, y) => x - y)).toEqual(sequences);
      expect(events[3].run).toMatchObject({ status: 'STOPPED', exit_code: 0, run_id: run['run_id'] });
      expect(received.every((r) => JSON.parse(r.body).run.definition_id === def['definition_id'])).toBe(true);
      for (const r of received) {
        const expected = createHmac('sha256', secret)
          .update(`${r.headers['x-galley-timestamp']}.${r.body}`)
          .digest('hex');
        expect(r.headers['x-galley-signature']).toBe(`sha256=${expected}`);
      }
      const log = (await call('GET', `/api/v1/webhooks/${id}/deliveries`)).body['deliveries'] as {
        outbox_id: number;
        attempt: number;
        delivered: boolean;
        status_code: number;
      }[];
      const firstEvent = log
        .filter((d) => d.outbox_id === sequences[0])
        .sort((x, y) => x.attempt - y.attempt);
      expect(firstEvent.map((d) => [d.attempt, d.delivered, d.status_code])).toEqual([
        [1, false, 500],
        [2, true, 204],
      ]);
      expect((await call('DELETE', `/api/v1/webhooks/${id}`)).status).toBe(200);
    });

    it("delivers a pipeline's life to a global webhook: created, its instance's phases, scaled, deleted — in order, signed", async () => {
      const refused = await call('POST', '/api/v1/webhooks', {
        url,
        definition_id: (await define({ alias: 'no-pipelines', command: 'true' }))['definition_id'],
        events: ['pipeline.created'],
      });
      expect(refused.status).toBe(422);
      expect(Object.keys(refused.body['fields'] as object)).toEqual(['body.events']);

      const created = await call('POST', '/api/v1/webhooks', { url });
      expect(created.status).toBe(200);
      const secret = created.body['secret'] as string;
      const worker = { resources: { cpu: 0.05, mem: 16 }, shell: true, kill_grace_period: 1 };
      const spec = {
        id: 'hooked-pipeline',
        processes: { work: { id: 'work', command: 'while true; do sleep 0.2; done', ...worker } },
        instances: 1,
      };
      // Faustian's answers: 204 without a body.
      const send = async (method: string, path: string, body?: object) =>
        (await server.app.inject({ method: method as 'POST', url: path, ...(body ? { payload: body } : {}) }))
          .statusCode;
      expect(await send('POST', '/api/v1/pipelines', spec)).toBe(204);
      const ofPipeline = () =>
        received.map((r) => JSON.parse(r.body)).filter((b) => b.pipeline?.pipeline_id === spec.id);
      await eventually(async () =>
        ofPipeline().some((b) => b.event === 'pipeline.instance.running') ? true : undefined,
      );
      expect(await send('PATCH', `/api/v1/pipelines/${spec.id}`, { instances: 0 })).toBe(204);
      await eventually(async () =>
        ofPipeline().some((b) => b.event === 'pipeline.instance.removed') ? true : undefined,
      );
      expect(await send('DELETE', `/api/v1/pipelines/${spec.id}`)).toBe(204);
      const events = await eventually(async () => {
        const mine = ofPipeline();
        return mine.some((b) => b.event === 'pipeline.deleted') ? mine : undefined;
      });
      const names = events.map((e) => e.event as string);
      // Each change once, in the order it was stored.
      expect(names[0]).toBe('pipeline.created');
      expect(names.indexOf('pipeline.instance.starting')).toBeLessThan(
        names.indexOf('pipeline.instance.running'),
      );
      expect(names.indexOf('pipeline.instance.running')).toBeLessThan(names.indexOf('pipeline.updated'));
      expect(names.indexOf('pipeline.updated')).toBeLessThan(names.indexOf('pipeline.instance.removed'));
      expect(names.at(-1)).toBe('pipeline.deleted');
      expect(new Set(names).size).toBe(names.length);
      const sequences = events.map((e) => e.sequence as number);
      expect([...sequences].sort((x, y) => x - y)).toEqual(sequences);
      expect(events.find((e) => e.event === 'pipeline.updated').pipeline).toMatchObject({
        pipeline_id: spec.id,
        instances: 0,
      });
      expect(events.find((e) => e.event === 'pipeline.instance.running').pipeline).toMatchObject({
        pipeline_id: spec.id,
        instance_id: `${spec.id}.1`,
        phase: 'running',
      });
      for (const r of received.filter((x) => JSON.parse(x.body).pipeline?.pipeline_id === spec.id)) {
        const expected = createHmac('sha256', secret)
          .update(`${r.headers['x-galley-timestamp']}.${r.body}`)
          .digest('hex');
        expect(r.headers['x-galley-signature']).toBe(`sha256=${expected}`);
      }
      expect((await call('DELETE', `/api/v1/webhooks/${created.body['webhook_id'] as string}`)).status).toBe(
        200,
      );
    });
  });
});
