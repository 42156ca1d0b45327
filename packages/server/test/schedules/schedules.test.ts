import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer } from '../api/harness.js';
import { apiCaller, type Server } from './harness.js';

/** Schedules through the API of an in-process server (PGlite, local backend, real processes). */
describe('schedules', () => {
  let server: Server;
  const call = apiCaller(() => server);
  const define = async (alias: string, command: string) =>
    (await call('POST', '/api/v1/task', { alias, command, memory: 64, cpu: 10 })).body[
      'definition_id'
    ] as string;
  /** The runs a schedule started, by its fires (newest first). */
  const fires = async (id: string) =>
    (await call('GET', `/api/v1/schedules/${id}`)).body['recent_fires'] as {
      tick: string;
      run_id: string | null;
      skipped_reason: string | null;
    }[];

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('validates cron and time zone, naming the field; answers the next 5 fire times; pauses and resumes', async () => {
    const def = await define('sched-api', 'true');
    const badCron = await call('POST', `/api/v1/task/${def}/schedules`, { cron: 'every day' });
    expect(badCron.status).toBe(422);
    expect(badCron.body['fields']).toHaveProperty(['body.cron']);
    const badTz = await call('POST', `/api/v1/task/${def}/schedules`, {
      cron: '0 9 * * *',
      timezone: 'Mars/Olympus',
    });
    expect(badTz.status).toBe(422);
    expect(badTz.body['fields']).toHaveProperty(['body.timezone']);
    const badPolicy = await call('POST', `/api/v1/task/${def}/schedules`, {
      cron: '0 9 * * *',
      concurrency: 'never',
    });
    expect(badPolicy.status).toBe(400);

    const created = await call('POST', `/api/v1/task/${def}/schedules`, {
      cron: '30 9 * * 1-5',
      timezone: 'Europe/Paris',
      concurrency: 'forbid',
    });
    expect(created.status).toBe(200);
    const next = created.body['next_runs'] as string[];
    expect(next).toHaveLength(5);
    for (const t of next) {
      const d = new Date(t);
      // 09:30 in Paris is 08:30 or 07:30 UTC (winter / summer time), on weekdays.
      expect(['08:30', '07:30']).toContain(t.slice(11, 16));
      expect([1, 2, 3, 4, 5]).toContain(d.getUTCDay());
    }
    const id = created.body['schedule_id'] as string;
    const paused = await call('PATCH', `/api/v1/schedules/${id}`, { paused: true });
    expect(paused.body).toMatchObject({ paused: true, next_runs: [] });
    const all = await call('GET', '/api/v1/schedules');
    expect(all.body['schedules'].find((s: { schedule_id: string }) => s.schedule_id === id)).toMatchObject({
      paused: true,
    });
    const resumed = await call('PATCH', `/api/v1/schedules/${id}`, { paused: false });
    expect(resumed.body['next_runs']).toEqual(next);
    expect((await call('GET', `/api/v1/task/${def}/schedules`)).body['total']).toBe(1);
    expect((await call('DELETE', `/api/v1/schedules/${id}`)).status).toBe(200);
    expect((await call('GET', `/api/v1/schedules/${id}`)).status).toBe(404);
  });

  it('forbid skips ticks while the previous run still runs, and fires again once it ended', async () => {
    const def = await define('sched-forbid', 'sleep 60');
    const created = await call('POST', `/api/v1/task/${def}/schedules`, {
      cron: '* * * * * *',
      concurrency: 'forbid',
    });
    const id = created.body['schedule_id'] as string;
    // A tick skipped after the first run started, which is still running.
    const first = await eventually(async () => {
      const list = await fires(id);
      const started = list.filter((f) => f.run_id !== null);
      const skipped = list.filter((f) => f.skipped_reason?.includes('forbid'));
      return started.length >= 1 && skipped.length >= 2 ? started : undefined;
    });
    expect(first).toHaveLength(1);
    const runId = first[0]!.run_id!;
    const run = await call('GET', `/api/v1/history/${runId}`);
    expect(['PENDING', 'RUNNING', 'QUEUED']).toContain(run.body['status']);
    expect(run.body['idempotence_key']).toBe(`schedule:${id}:${Date.parse(first[0]!.tick)}`);
    expect(run.body['env']).toContainEqual({ name: 'GALLEY_SCHEDULE_ID', value: id });
    // Stopped: the next tick starts a new run.
    await call('DELETE', `/api/v1/task/${def}/history/${runId}`);
    const second = await eventually(async () => {
      const started = (await fires(id)).filter((f) => f.run_id !== null && f.run_id !== runId);
      return started.length > 0 ? started : undefined;
    });
    expect(Date.parse(second[0]!.tick)).toBeGreaterThan(Date.parse(first[0]!.tick));
    await call('PATCH', `/api/v1/schedules/${id}`, { paused: true });
    for (const f of await fires(id))
      if (f.run_id) await call('DELETE', `/api/v1/task/${def}/history/${f.run_id}`);
  });

  it('pauses a schedule whose definition was deleted, saying why', async () => {
    const def = await define('sched-gone', 'true');
    const created = await call('POST', `/api/v1/task/${def}/schedules`, { cron: '* * * * * *' });
    const id = created.body['schedule_id'] as string;
    await eventually(async () => ((await fires(id)).some((f) => f.run_id) ? true : undefined));
    expect((await call('DELETE', `/api/v1/task/${def}`)).status).toBe(200);
    const paused = await eventually(async () => {
      const s = (await call('GET', `/api/v1/schedules/${id}`)).body;
      return s['paused'] ? s : undefined;
    });
    expect(paused['recent_fires'][0]).toMatchObject({
      run_id: null,
      skipped_reason: 'the definition no longer exists',
    });
  });

  it('replace stops the previous run and starts the new one', async () => {
    const def = await define('sched-replace', 'sleep 60');
    const created = await call('POST', `/api/v1/task/${def}/schedules`, {
      cron: '* * * * * *',
      concurrency: 'replace',
    });
    const id = created.body['schedule_id'] as string;
    const runs = await eventually(async () => {
      const started = (await fires(id)).filter((f) => f.run_id !== null);
      return started.length >= 2 ? started : undefined;
    });
    await call('PATCH', `/api/v1/schedules/${id}`, { paused: true });
    const older = runs[runs.length - 1]!.run_id!;
    const stopped = await eventually(async () => {
      const r = await call('GET', `/api/v1/history/${older}`);
      return r.body['status'] === 'STOPPED' ? r.body : undefined;
    });
    expect(stopped['exit_reason']).toContain('replaced by schedule');
    for (const f of await fires(id))
      if (f.run_id) await call('DELETE', `/api/v1/task/${def}/history/${f.run_id}`);
  });
});
