import { storeMatrix } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import type { AttemptRecord, RunRecord } from '../../src/model/records.js';
import type { RunChange, Store } from '../../src/store/store.js';
import { definitionInput, newRun } from './fixtures.js';

// Engine changes are written as multi-row statements, and concurrent reads and inserts share
// statements; these cases pin down that a batch behaves exactly like its parts done one by one,
// on embedded PGlite and on a real PostgreSQL.

const matrix = await storeMatrix({ tempPrefix: 'galley-changes-' });
afterAll(() => matrix.stop());
const backends = matrix.stores;

const attemptOf = (runId: string, seq = 1): AttemptRecord => ({
  attemptId: `${runId}.${seq}`,
  runId,
  seq,
  cluster: 'local',
  nodeId: 'local',
  epoch: 3,
  state: 'launching',
  handle: null,
  outcome: null,
  createdAt: 2_000,
  launchedAt: null,
  endedAt: null,
});

/** The launch intent of a QUEUED run (version 1 → 2), as the engine writes it. */
function launch(run: RunRecord, expectedVersion = 1): RunChange {
  const attemptId = `${run.runId}.1`;
  return {
    run: {
      ...run,
      state: { ...run.state, status: 'PENDING', attemptCount: 1, attemptId, attemptIds: [attemptId] },
    },
    expectedVersion,
    attempt: { insert: attemptOf(run.runId) },
    events: [{ runId: run.runId, at: 2_000, type: 'launching', status: 'PENDING', attemptId, reason: null }],
  };
}

/** The `running` then `ended` of a launched run (version 2 → 3), with odd text in every field. */
function runAndEnd(run: RunRecord, reason: string): RunChange {
  const attemptId = `${run.runId}.1`;
  return {
    run: {
      ...run,
      state: { ...run.state, status: 'STOPPED', exitCode: 3, exitReason: reason, finishedAt: 2_009 },
      host: { hostId: 'host "a"', dnsName: 'a,b{c}' },
    },
    expectedVersion: 2,
    attempt: {
      patch: {
        attemptId,
        state: 'ended',
        handle: { pid: 7, dir: 'with "quotes", {braces} and \\ backslash' },
        outcome: { kind: 'exited', exitCode: 3 },
        launchedAt: 2_005,
        endedAt: 2_009,
      },
    },
    events: [
      { runId: run.runId, at: 2_005, type: 'running', status: 'RUNNING', attemptId, reason: null },
      { runId: run.runId, at: 2_009, type: 'ended', status: 'STOPPED', attemptId, reason },
    ],
  };
}

for (const backend of backends) {
  describe.runIf(backend.available)(`batched store work on ${backend.name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await openStore(await backend.location());
    });
    afterAll(async () => store?.close());

    const queued = async (prefix: string, n: number) => {
      for (let i = 0; i < n; i++) await store.insertRun(newRun(`${prefix}-${i}`, {}, 1_000 + i));
      return store.getRuns(Array.from({ length: n }, (_, i) => `${prefix}-${i}`));
    };

    it('stores a batch in one go, skipping only the changes whose version moved on', async () => {
      const runs = await queued('batch', 40);
      const stale = new Set(['batch-3', 'batch-17', 'batch-39']);
      const stored = await store.applyChanges(runs.map((r) => launch(r, stale.has(r.runId) ? 7 : 1)));
      expect(stored.map((r) => r.runId).sort()).toEqual(
        runs
          .map((r) => r.runId)
          .filter((id) => !stale.has(id))
          .sort(),
      );
      expect(stored.every((r) => r.version === 2 && r.state.status === 'PENDING')).toBe(true);
      for (const r of runs) {
        const skipped = stale.has(r.runId);
        const now = (await store.getRun(r.runId))!;
        expect(now.version).toBe(skipped ? 1 : 2);
        expect((await store.attempts(r.runId)).length).toBe(skipped ? 0 : 1);
        expect((await store.runEvents(r.runId)).map((e) => e.type)).toEqual(
          skipped ? ['queued'] : ['queued', 'launching'],
        );
      }
    });

    it('round-trips quotes, braces, backslashes, NULL-looking text and JSON through the arrays', async () => {
      const [run] = await queued('odd', 1);
      const [launched] = await store.applyChanges([launch(run!)]);
      const reason = `exit 3: "NULL", {a,b} \\ 'quoted'`;
      const [ended] = await store.applyChanges([runAndEnd(launched!, reason)]);
      expect(ended).toMatchObject({ version: 3, state: { status: 'STOPPED', exitReason: reason } });
      expect(await store.getRun('odd-0')).toMatchObject({
        state: { exitCode: 3, exitReason: reason },
        host: { hostId: 'host "a"', dnsName: 'a,b{c}' },
      });
      expect(await store.getAttempt('odd-0.1')).toMatchObject({
        state: 'ended',
        handle: { pid: 7, dir: 'with "quotes", {braces} and \\ backslash' },
        outcome: { kind: 'exited', exitCode: 3 },
        launchedAt: 2_005,
        endedAt: 2_009,
      });
      const timeline = await store.runEvents('odd-0');
      expect(timeline.map((e) => [e.type, e.reason])).toEqual([
        ['queued', null],
        ['launching', null],
        ['running', null],
        ['ended', reason],
      ]);
    });

    it('applies two changes of one run in one batch in order, as if one by one', async () => {
      const [run] = await queued('twice', 1);
      const first = launch(run!);
      const second = runAndEnd({ ...first.run, version: 2 }, 'exit 3');
      // A third change still expecting version 1 (a writer that lost the race) must lose.
      const stale = launch(run!);
      const stored = await store.applyChanges([first, second, stale]);
      expect(stored.map((r) => [r.runId, r.version, r.state.status])).toEqual([
        ['twice-0', 2, 'PENDING'],
        ['twice-0', 3, 'STOPPED'],
      ]);
      expect((await store.attempts('twice-0')).map((a) => a.state)).toEqual(['ended']);
      expect((await store.runEvents('twice-0')).map((e) => e.type)).toEqual([
        'queued',
        'launching',
        'running',
        'ended',
      ]);
    });

    it('patches attempts in order: a late "running" never reopens an ended attempt', async () => {
      const [run] = await queued('late', 1);
      await store.applyChanges([launch(run!)]);
      await store.patchAttempts([
        { attemptId: 'late-0.1', state: 'running', handle: { pid: 1 }, launchedAt: 2_001 },
        { attemptId: 'late-0.1', state: 'ended', outcome: { kind: 'exited', exitCode: 0 }, endedAt: 2_002 },
        { attemptId: 'late-0.1', state: 'running', handle: { pid: 2 }, launchedAt: 2_003 },
      ]);
      expect(await store.getAttempt('late-0.1')).toMatchObject({
        state: 'ended',
        handle: { pid: 1 },
        launchedAt: 2_001,
        endedAt: 2_002,
      });
    });

    it('answers concurrent lookups each with its own row (shared statements), unknown ones null', async () => {
      const defs = await Promise.all(
        ['l-a', 'l-b', 'l-c'].map((alias, i) =>
          store.createDefinition(definitionInput({ alias, command: `echo ${i}` }), `lookup-${i}`, 1_000),
        ),
      );
      const [byAlias, byId, runs] = await Promise.all([
        Promise.all(['l-c', 'l-a', 'l-missing', 'l-a'].map((a) => store.getDefinitionByAlias(a))),
        Promise.all(['lookup-1', 'nope', 'lookup-2'].map((id) => store.getDefinition(id))),
        Promise.all(['odd-0', 'ghost', 'twice-0'].map((id) => store.getRun(id))),
      ]);
      expect(byAlias.map((d) => d?.command ?? null)).toEqual(['echo 2', 'echo 0', null, 'echo 0']);
      expect(byId.map((d) => d?.definitionId ?? null)).toEqual(['lookup-1', null, 'lookup-2']);
      expect(defs.map((d) => d.alias)).toEqual(['l-a', 'l-b', 'l-c']);
      expect(runs.map((r) => r?.runId ?? null)).toEqual(['odd-0', null, 'twice-0']);
      // A lookup after a change sees the change.
      await store.updateDefinition('lookup-0', { ...defs[0]!, command: 'echo new' }, 2_000);
      expect((await store.getDefinitionByAlias('l-a'))?.command).toBe('echo new');
    });
  });
}
