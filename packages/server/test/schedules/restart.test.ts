import { builtGalley, galleyCli, galleyRequest, startGalley, type GalleyProcess } from '@galley/testkit';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Json } from './harness.js';

// An every-second schedule on the BUILT server, SIGKILLed and started again on its data dir: no
// tick ever makes two runs; of the ticks missed while it was down at most `catch_up` (1) run, the
// others are recorded as skipped; after the restart it fires every tick again. A webhook hears of
// every run's end across the kill: the outbox and its delivery cursor are in the database.

const gate = builtGalley('schedules across a SIGKILL');

describe.runIf(gate.available)('an every-second schedule across a SIGKILL and a restart', () => {
  let server: GalleyProcess | undefined;
  let dataDir = '';
  /** The webhook receiver: every delivery's body, in the order they came. */
  const delivered: { sequence: number; event: string; run: { run_id: string } }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      delivered.push(JSON.parse(body) as (typeof delivered)[number]);
      res.writeHead(204).end();
    });
  });
  afterAll(async () => {
    receiver.close();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  const api = async (method: string, path: string, body?: unknown) =>
    (await galleyRequest<Json>(server!.url, method, `/api/v1${path}`, body)).body;
  const fires = async (id: string) =>
    (await api('GET', `/schedules/${id}`))['recent_fires'] as {
      tick: string;
      run_id: string | null;
      skipped_reason: string | null;
    }[];
  const waitFor = <T>(check: () => Promise<T | undefined>) =>
    vi.waitFor(
      async () => {
        const v = await check();
        if (v === undefined) throw new Error('still waiting');
        return v;
      },
      { timeout: 60_000, interval: 100 },
    );

  it(
    'fires each tick at most once, and at most catch_up of the ticks missed while down',
    { timeout: 180_000 },
    async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'galley-sched-'));
      server = await startGalley({ dataDir });
      const def = await api('POST', '/task', { alias: 'every-second', command: 'true', memory: 64, cpu: 10 });
      const created = await api('POST', `/task/${def['definition_id']}/schedules`, {
        cron: '* * * * * *',
        catch_up: 1,
      });
      const id = created['schedule_id'] as string;
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      await api('POST', '/webhooks', {
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
        definition_id: def['definition_id'],
        events: ['run.stopped'],
      });
      await waitFor(async () => ((await fires(id)).filter((f) => f.run_id).length >= 3 ? true : undefined));

      await server.kill();
      const killedAt = Date.now();
      // Down for a few ticks (the restart below takes longer still).
      await waitFor(async () => (Date.now() > killedAt + 3_000 ? true : undefined));
      const spawnedAt = Date.now();
      server = await startGalley({ dataDir });
      const restartedAt = Date.now();
      await waitFor(async () => {
        const after = (await fires(id)).filter((f) => f.run_id && Date.parse(f.tick) > restartedAt);
        return after.length >= 2 ? true : undefined;
      });
      // The CLI: a paused schedule shows no next runs.
      const paused = await galleyCli(server.url, ['schedule', 'pause', id]);
      expect(paused.code).toBe(0);
      expect(paused.stdout).toContain('paused: no next runs');

      const runs = (await api('GET', `/history?definition_id=${def['definition_id']}&limit=1000`))[
        'history'
      ] as {
        run_id: string;
        idempotence_key: string;
      }[];
      const ticks = runs.map((r) => Number(r.idempotence_key.split(':').pop()));
      // The webhook heard of every run's end, across the kill; in order (a delivery in flight at the
      // kill may come twice: receivers dedupe by sequence).
      const ended = await waitFor(async () => {
        const seen = new Set(delivered.map((d) => d.run.run_id));
        return runs.every((r) => seen.has(r.run_id)) ? delivered : undefined;
      });
      const sequences = [...new Set(ended.map((d) => d.sequence))];
      expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
      expect(ended.every((d) => d.event === 'run.stopped')).toBe(true);
      expect(ended.length - sequences.length).toBeLessThanOrEqual(1);
      // No tick twice.
      expect(new Set(ticks).size).toBe(ticks.length);
      expect(runs.every((r) => r.idempotence_key.startsWith(`schedule:${id}:`))).toBe(true);
      // While no server ran, at most catch_up (1) of the missed ticks made a run…
      expect(ticks.filter((t) => t > killedAt && t < spawnedAt).length).toBeLessThanOrEqual(1);
      // …and the missed ones are recorded as skipped, with why.
      const all = await fires(id);
      const missed = all.filter((f) => f.skipped_reason?.includes('catch_up 1'));
      expect(missed.length).toBeGreaterThan(0);
      for (const f of missed) expect(Date.parse(f.tick)).toBeGreaterThan(killedAt - 1_000);
      // Every tick before the kill and after the restart made a run (one each).
      const before = ticks.filter((t) => t < killedAt - 1_000).sort((a, b) => a - b);
      for (let i = 1; i < before.length; i++) expect(before[i]! - before[i - 1]!).toBe(1_000);

      // `galley schedule resume` prints the next runs (whole seconds, from now on).
      const resumed = await galleyCli(server.url, ['schedule', 'resume', id]);
      expect(resumed.stdout).toMatch(/next runs:\n {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z/);
      await api('PATCH', `/schedules/${id}`, { paused: true });
      // `galley run --retry-attempts 2 --retry-on-exit 3`: exit 3 is tried twice.
      const ran = await galleyCli(server.url, [
        'run',
        'every-second',
        '--command',
        'exit 3',
        '--retry-attempts',
        '2',
        '--retry-on-exit',
        '3',
      ]);
      expect(ran.code).toBe(0);
      const done = await waitFor(async () => {
        const r = await api('GET', `/history/${ran.stdout.trim()}`);
        return r['status'] === 'STOPPED' ? r : undefined;
      });
      expect(done).toMatchObject({ attempt_count: 2, exit_code: 3 });
    },
  );
});
