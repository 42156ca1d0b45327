import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRetryPolicy } from '@galley/core';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { attemptDir } from '../../src/backends/local/attempt-files.js';
import { LocalBackend } from '../../src/backends/local/local-backend.js';
import { systemClock } from '../../src/clock.js';
import { RunController } from '../../src/runs/controller.js';
import { SoleLeadership } from '../../src/control/leadership.js';
import { RunFeed } from '../../src/runs/feed.js';
import { openStore } from '../../src/store/open.js';
import type { RunRecord } from '../../src/model/records.js';
import type { Store } from '../../src/store/store.js';
import { newRun } from '../store/fixtures.js';

// The engine with a real store (PGlite) and the real local backend. Each test uses its own
// cluster name, so tests sharing the store never see each other's runs.

let store: Store;
let dataDir: string;
const engines: RunController[] = [];
let clusterCounter = 0;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'galley-engine-'));
  store = await openStore({ dataDir });
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});
afterAll(async () => {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

function makeEngine(cluster: string, over: { cpus?: number; dispatched?: number[]; store?: Store } = {}) {
  const logger = pino({ level: 'silent' });
  const backend = new LocalBackend({
    cluster,
    dataDir,
    cpus: over.cpus ?? 4,
    memoryMb: 4096,
    adoptCheckMs: 20,
    clock: systemClock,
    logger,
  });
  const feed = new RunFeed();
  const engine = new RunController({
    store: over.store ?? store,
    backends: [backend],
    leadership: new SoleLeadership(store, `test-${cluster}`, systemClock),
    feed,
    clock: systemClock,
    random: () => 0.5,
    policy: resolveRetryPolicy({ initialDelayMs: 50, maxAttempts: 3 }),
    stopGraceMs: 300,
    logger,
    onDispatched: (ms) => over.dispatched?.push(ms),
  });
  engines.push(engine);
  return { engine, backend, feed };
}

let runCounter = 0;
async function submit(
  engine: RunController | null,
  cluster: string,
  over: Partial<Parameters<typeof newRun>[1]> = {},
  queuedAt = Date.now(),
) {
  const runId = `r${process.pid}x${runCounter++}`;
  const { run } = await store.insertRun(newRun(runId, { cluster, cpu: 250, memory: 64, ...over }, queuedAt));
  engine?.wake();
  return run;
}

/** Waits (vi.waitFor, generous for a loaded machine) until the stored run satisfies `pred`. */
async function waitForRun(
  runId: string,
  pred: (r: RunRecord) => boolean,
  timeoutMs = 60_000,
): Promise<RunRecord> {
  return vi.waitFor(
    async () => {
      const run = await store.getRun(runId);
      if (!run || !pred(run))
        throw new Error(`run ${runId} did not get there: ${JSON.stringify(run?.state)}`);
      return run;
    },
    { timeout: timeoutMs, interval: 10 },
  );
}

const stopped = (r: RunRecord) => r.state.status === 'STOPPED';

/** Starts a run of 0.6 cpus (of 1) that ends once the answered gate file exists; resolves once RUNNING. */
async function holdTheCpu(engine: RunController, cluster: string): Promise<string> {
  const gate = join(dataDir, `${cluster}.gate`);
  const holder = await submit(engine, cluster, {
    cpu: 600,
    command: `while [ ! -e ${gate} ]; do sleep 0.05; done`,
  });
  await waitForRun(holder.runId, (r) => r.state.status === 'RUNNING');
  return gate;
}

// Generous timeouts: a loaded machine starts processes slowly; a failure still ends the test.
describe('engine (PGlite + local backend, real processes)', { timeout: 120_000 }, () => {
  // How fast is a benchmark figure (`npm run bench:api`: dispatch p50/p99); here, that it is reported.
  it('dispatches a run on an idle server, reports its dispatch latency, and records its whole timeline', async () => {
    const cluster = `c${clusterCounter++}`;
    const dispatched: number[] = [];
    const { engine, feed } = makeEngine(cluster, { dispatched });
    await engine.start();
    const seen: string[] = [];
    feed.subscribe((r) => seen.push(r.state.status));
    const run = await submit(engine, cluster, { command: 'echo hello' });
    const done = await waitForRun(run.runId, stopped);
    expect(done.state).toMatchObject({ exitCode: 0, attemptCount: 1, attemptId: `${run.runId}.1` });
    expect(done.host?.hostId).toBeTruthy();
    expect(dispatched).toHaveLength(1);
    expect(Number.isFinite(dispatched[0])).toBe(true);
    expect(dispatched[0]).toBeGreaterThanOrEqual(0);
    const timeline = await store.runEvents(run.runId);
    expect(timeline.map((e) => [e.type, e.status])).toEqual([
      ['queued', 'QUEUED'],
      ['launching', 'PENDING'],
      ['running', 'RUNNING'],
      ['ended', 'STOPPED'],
    ]);
    expect(seen).toEqual(expect.arrayContaining(['PENDING', 'STOPPED']));
    expect(await readFile(join(attemptDir(dataDir, run.runId, 1), 'stdout'), 'utf8')).toBe('hello\n');
  });

  it('never runs more than its capacity: the rest wait QUEUED with a reason, and all finish', async () => {
    const cluster = `c${clusterCounter++}`;
    const { engine } = makeEngine(cluster, { cpus: 1 });
    await engine.start();
    const marker = join(dataDir, `${cluster}.log`);
    // Each run holds its cpus until the gate opens, so the second one waits however slow the machine.
    const gate = join(dataDir, `${cluster}.gate`);
    const runs = [];
    for (let i = 0; i < 4; i++) {
      runs.push(
        await submit(engine, cluster, {
          cpu: 600,
          command: `echo start >> ${marker}; while [ ! -e ${gate} ]; do sleep 0.05; done; sleep 0.2; echo end >> ${marker}`,
        }),
      );
    }
    const waiting = await waitForRun(
      runs[1]!.runId,
      (r) => r.state.queuedReason !== null || r.state.status !== 'QUEUED',
    );
    expect(waiting.state.status).toBe('QUEUED');
    expect(waiting.state.queuedReason).toMatch(/cpu/);
    await writeFile(gate, '');
    for (const r of runs) expect((await waitForRun(r.runId, stopped)).state.exitCode).toBe(0);
    // One at a time: the lines alternate start/end.
    const lines = (await readFile(marker, 'utf8')).trim().split('\n');
    expect(lines).toEqual(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? 'start' : 'end')));
  });

  it("stores a waiting run's reason that a write conflict lost, though nothing else wakes the dispatch loop", async () => {
    const cluster = `c${clusterCounter++}`;
    // The store refuses the first write of a reason, as a conflict does (another writer's version).
    let refused = 0;
    const conflicting: Store = {
      ...store,
      async applyChanges(changes, fence) {
        const lost = refused === 0 ? changes.find((c) => c.run.state.queuedReason !== null) : undefined;
        if (lost) refused++;
        return store.applyChanges(
          changes.filter((c) => c !== lost),
          fence,
        );
      },
    };
    const { engine } = makeEngine(cluster, { cpus: 1, store: conflicting });
    await engine.start();
    const gate = await holdTheCpu(engine, cluster);
    const waiting = await submit(engine, cluster, { cpu: 600, command: 'true' });
    const stored = await waitForRun(waiting.runId, (r) => r.state.queuedReason !== null);
    expect(refused).toBe(1);
    expect(stored.state).toMatchObject({ status: 'QUEUED', queuedReason: expect.stringMatching(/cpu/) });
    await writeFile(gate, '');
    expect((await waitForRun(waiting.runId, stopped)).state.exitCode).toBe(0);
  });

  it('gives a reason to a run committed after a round read runs queued later than it', async () => {
    const cluster = `c${clusterCounter++}`;
    const { engine, feed } = makeEngine(cluster, { cpus: 1 });
    await engine.start();
    const gate = await holdTheCpu(engine, cluster);
    const later = await submit(engine, cluster, { cpu: 600, command: 'true' });
    await waitForRun(later.runId, (r) => r.state.queuedReason !== null);
    // Queued before `later` but committed after the round that read it (a group-committed execute).
    // Published, as the API publishes an execute it stored, before the loop is woken.
    const earlier = await submit(null, cluster, { cpu: 600, command: 'true' }, later.state.queuedAt - 5);
    feed.publish([earlier]);
    engine.wake();
    const stored = await waitForRun(earlier.runId, (r) => r.state.queuedReason !== null);
    expect(stored.state).toMatchObject({ status: 'QUEUED', queuedReason: expect.stringMatching(/cpu/) });
    await writeFile(gate, '');
    for (const r of [earlier, later]) expect((await waitForRun(r.runId, stopped)).state.exitCode).toBe(0);
  });

  it('stops a queued run at once and a running one by killing it, answering what happened', async () => {
    const cluster = `c${clusterCounter++}`;
    const { engine } = makeEngine(cluster, { cpus: 0.5 });
    await engine.start();
    const sleeping = await submit(engine, cluster, { cpu: 500, command: 'sleep 30' });
    await waitForRun(sleeping.runId, (r) => r.state.status === 'RUNNING');
    const queued = await submit(engine, cluster, { cpu: 500, command: 'echo never' });
    expect(await engine.requestStop(queued.runId)).toMatchObject({
      result: 'stopped',
      run: { state: { status: 'STOPPED' } },
    });
    const answer = await engine.requestStop(sleeping.runId, 'enough');
    expect(answer).toMatchObject({ result: 'kill-sent', signalled: true });
    const done = await waitForRun(sleeping.runId, stopped);
    expect(done.state.exitReason).toMatch(/^enough/);
    expect(await engine.requestStop(sleeping.runId)).toMatchObject({ result: 'already-stopped' });
    expect(await engine.requestStop('no-such-run')).toEqual({ result: 'not-found' });
    expect((await store.attempts(queued.runId)).length).toBe(0);
  });

  it('stops a run past its active deadline', async () => {
    const cluster = `c${clusterCounter++}`;
    const { engine } = makeEngine(cluster);
    await engine.start();
    const run = await submit(engine, cluster, { command: 'sleep 30', activeDeadlineSeconds: 1 });
    const done = await waitForRun(run.runId, stopped);
    expect(done.state.exitReason).toMatch(/active deadline of 1 s exceeded/);
  });

  it('at start, launches a recorded-but-never-started attempt under the same id, and retries a lost one', async () => {
    const cluster = `c${clusterCounter++}`;
    // A previous server recorded launch intents and died: one before spawning, one whose process vanished.
    const intent = await submit(null, cluster, {
      command: `echo once >> ${join(dataDir, `${cluster}-once`)}`,
    });
    const vanished = await submit(null, cluster, { command: 'echo retried' });
    for (const run of [intent, vanished]) {
      const attemptId = `${run.runId}.1`;
      await store.applyChanges([
        {
          run: {
            ...run,
            state: { ...run.state, status: 'PENDING', attemptCount: 1, attemptId, attemptIds: [attemptId] },
          },
          expectedVersion: run.version,
          attempt: {
            insert: {
              attemptId,
              runId: run.runId,
              seq: 1,
              cluster,
              nodeId: 'local',
              epoch: 1,
              state: run === intent ? 'launching' : 'running',
              handle: null,
              outcome: null,
              createdAt: Date.now(),
              launchedAt: null,
              endedAt: null,
            },
          },
          events: [],
        },
      ]);
    }
    const lostDir = attemptDir(dataDir, vanished.runId, 1);
    await mkdir(lostDir, { recursive: true });
    await writeFile(join(lostDir, 'pid'), '999999999\n');

    const { engine } = makeEngine(cluster);
    await engine.start();
    const once = await waitForRun(intent.runId, stopped);
    expect(once.state).toMatchObject({ exitCode: 0, attemptCount: 1, attemptId: `${intent.runId}.1` });
    expect(await readFile(join(dataDir, `${cluster}-once`), 'utf8')).toBe('once\n');
    const retried = await waitForRun(vanished.runId, stopped);
    expect(retried.state).toMatchObject({ exitCode: 0, attemptCount: 2, attemptId: `${vanished.runId}.2` });
    const statuses = (await store.runEvents(vanished.runId)).map((e) => e.status);
    expect(statuses).toEqual(['QUEUED', 'NEEDS_RETRY', 'QUEUED', 'PENDING', 'RUNNING', 'STOPPED']);
    expect((await store.attempts(vanished.runId)).map((a) => [a.seq, a.state, a.outcome?.kind])).toEqual([
      [1, 'ended', 'host-failure'],
      [2, 'ended', 'exited'],
    ]);
  });
});
