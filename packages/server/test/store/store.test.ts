import { storeMatrix } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type StoreLocation } from '../../src/store/open.js';
import { DuplicateAliasError, type Store } from '../../src/store/store.js';
import type { RunQuery } from '../../src/store/store.js';
import { definitionInput, newRun } from './fixtures.js';

// One storage suite, run against embedded PGlite and a real PostgreSQL.

const matrix = await storeMatrix({ tempPrefix: 'galley-store-' });
afterAll(() => matrix.stop());
const backends = matrix.stores;

const query = (over: Partial<RunQuery> = {}): RunQuery => ({
  equals: {},
  statuses: [],
  env: [],
  sortBy: 'queued_at',
  order: 'asc',
  limit: 100,
  offset: 0,
  ...over,
});

for (const backend of backends) {
  describe.runIf(backend.available)(`store on ${backend.name}`, () => {
    let store: Store;
    let location: StoreLocation;
    beforeAll(async () => {
      location = await backend.location();
      store = await openStore(location);
    });
    afterAll(async () => store?.close());

    it('keeps definitions and runs across a reopen, applying migrations once', async () => {
      await store.createDefinition(definitionInput({ alias: 'durable' }), 'def-durable', 1);
      await store.close();
      store = await openStore(location);
      expect((await store.getDefinitionByAlias('durable'))?.definitionId).toBe('def-durable');
    });

    it('creates, reads, merges and deletes definitions, refusing a duplicate alias', async () => {
      const d = await store.createDefinition(
        definitionInput({ alias: 'crud', tags: ['a', 'b'] }),
        'def-crud',
        10,
      );
      expect(d).toMatchObject({ alias: 'crud', memory: 512, cpu: 250, tags: ['a', 'b'], createdAt: 10 });
      expect(d.env).toEqual([{ name: 'USERNAME', value: 'someone' }]);
      await expect(
        store.createDefinition(definitionInput({ alias: 'crud' }), 'def-other', 11),
      ).rejects.toBeInstanceOf(DuplicateAliasError);
      const u = await store.updateDefinition(
        'def-crud',
        { ...definitionInput({ alias: 'crud' }), memory: 64 },
        12,
      );
      expect(u).toMatchObject({ memory: 64, updatedAt: 12, createdAt: 10 });
      await expect(
        store.updateDefinition('def-crud', definitionInput({ alias: 'durable' }), 13),
      ).rejects.toBeInstanceOf(DuplicateAliasError);
      expect(await store.updateDefinition('nope', definitionInput({ alias: 'x' }), 13)).toBeNull();
      expect(await store.deleteDefinition('def-crud')).toBe(true);
      expect(await store.deleteDefinition('def-crud')).toBe(false);
      expect(await store.getDefinition('def-crud')).toBeNull();
    });

    it('lists definitions with filters, sort and paging, and answers real groups and tags', async () => {
      for (const [i, alias] of ['l-c', 'l-a', 'l-b'].entries()) {
        await store.createDefinition(
          definitionInput({ alias, groupName: 'listing', tags: [`t-${alias}`, 'shared'] }),
          `def-${alias}`,
          100 + i,
        );
      }
      const page = await store.listDefinitions({
        equals: { group_name: 'listing' },
        sortBy: 'alias',
        order: 'desc',
        limit: 2,
        offset: 1,
      });
      expect(page.total).toBe(3);
      expect(page.items.map((d) => d.alias)).toEqual(['l-b', 'l-a']);
      const beyond = await store.listDefinitions({
        equals: { group_name: 'listing' },
        sortBy: 'alias',
        order: 'asc',
        limit: 2,
        offset: 9,
      });
      expect(beyond).toEqual({ total: 3, items: [] });
      expect(await store.listGroups()).toContain('listing');
      expect(await store.listTags()).toEqual(expect.arrayContaining(['shared', 't-l-a', 't-l-b', 't-l-c']));
    });

    it('inserts a QUEUED run with its first timeline entry, and returns the earlier run for a seen idempotence key', async () => {
      const first = await store.insertRun(newRun('run-idem-1', { idempotenceKey: 'key-1' }, 500));
      expect(first.created).toBe(true);
      expect(first.run).toMatchObject({
        runId: 'run-idem-1',
        version: 1,
        state: { status: 'QUEUED', queuedAt: 500 },
      });
      const again = await store.insertRun(newRun('run-idem-2', { idempotenceKey: 'key-1' }, 600));
      expect(again).toMatchObject({ created: false, run: { runId: 'run-idem-1' } });
      expect(await store.getRun('run-idem-2')).toBeNull();
      const events = await store.runEvents('run-idem-1');
      expect(events).toEqual([expect.objectContaining({ type: 'queued', status: 'QUEUED', at: 500 })]);
    });

    it('inserts concurrent executes together, one run per idempotence key even within one batch', async () => {
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          store.insertRun(
            newRun(
              `batch-${i}`,
              { groupName: 'batch', idempotenceKey: i % 10 === 0 ? 'batch-key' : null },
              4_000 + i,
            ),
          ),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(28);
      expect(
        new Set(results.filter((r) => r.run.idempotenceKey === 'batch-key').map((r) => r.run.runId)),
      ).toEqual(new Set(['batch-0']));
      const listed = await store.listRuns(query({ equals: { group_name: 'batch' } }));
      expect(listed.total).toBe(28);
      expect((await store.runEvents('batch-29')).map((e) => e.type)).toEqual(['queued']);
    });

    it('filters history by any field, several statuses, env and time, with sort, paging and totals', async () => {
      const base = { groupName: 'hist' };
      await store.insertRun(
        newRun('h1', { ...base, ownerId: 'bob', env: [{ name: 'K', value: 'v1' }] }, 2_001),
      );
      await store.insertRun(
        newRun('h2', { ...base, ownerId: 'bob', env: [{ name: 'K', value: 'v2' }] }, 2_002),
      );
      await store.insertRun(
        newRun('h3', { ...base, ownerId: 'carol', env: [{ name: 'K', value: 'v1' }] }, 2_003),
      );
      const h2 = (await store.getRun('h2'))!;
      await store.applyChanges([
        {
          run: { ...h2, state: { ...h2.state, status: 'STOPPED', exitCode: 3, finishedAt: 2_100 } },
          expectedVersion: 1,
          events: [],
        },
      ]);
      const byOwner = await store.listRuns(query({ equals: { group_name: 'hist', owner_id: 'bob' } }));
      expect(byOwner.items.map((r) => r.runId)).toEqual(['h1', 'h2']);
      const byEnv = await store.listRuns(
        query({ equals: { group_name: 'hist' }, env: [{ name: 'K', value: 'v1' }] }),
      );
      expect(byEnv.items.map((r) => r.runId)).toEqual(['h1', 'h3']);
      const statuses = await store.listRuns(
        query({ equals: { group_name: 'hist' }, statuses: ['STOPPED', 'RUNNING'] }),
      );
      expect(statuses.items.map((r) => r.runId)).toEqual(['h2']);
      const exit = await store.listRuns(query({ equals: { group_name: 'hist', exit_code: '3' } }));
      expect(exit.items.map((r) => r.runId)).toEqual(['h2']);
      const time = await store.listRuns(
        query({ equals: { group_name: 'hist' }, queuedFrom: 2_002, queuedUntil: 2_003 }),
      );
      expect(time.items.map((r) => r.runId)).toEqual(['h2', 'h3']);
      const paged = await store.listRuns(
        query({ equals: { group_name: 'hist' }, order: 'desc', limit: 1, offset: 1 }),
      );
      expect(paged).toMatchObject({ total: 3, items: [{ runId: 'h2' }] });
      const countOnly = await store.listRuns(query({ equals: { group_name: 'hist' }, limit: 0 }));
      expect(countOnly).toEqual({ total: 3, totalExact: true, items: [] });
    });

    it('stores engine changes in one transaction, skipping a change whose version moved on', async () => {
      await store.insertRun(newRun('cas', {}, 3_000));
      const run = (await store.getRun('cas'))!;
      const pending = {
        ...run,
        state: { ...run.state, status: 'PENDING' as const, attemptCount: 1, attemptId: 'cas.1' },
      };
      const attempt = {
        attemptId: 'cas.1',
        runId: 'cas',
        seq: 1,
        cluster: 'local',
        nodeId: 'local',
        epoch: 7,
        state: 'launching' as const,
        handle: null,
        outcome: null,
        createdAt: 3_001,
        launchedAt: null,
        endedAt: null,
      };
      const stored = await store.applyChanges([
        {
          run: pending,
          expectedVersion: 1,
          attempt: { insert: attempt },
          events: [
            {
              runId: 'cas',
              at: 3_001,
              type: 'launching',
              status: 'PENDING',
              attemptId: 'cas.1',
              reason: null,
            },
          ],
        },
      ]);
      expect(stored).toMatchObject([{ version: 2, state: { status: 'PENDING', attemptId: 'cas.1' } }]);
      // A second writer holding the old version loses, and nothing of its change is stored.
      const lost = await store.applyChanges([
        {
          run: { ...run, state: { ...run.state, status: 'STOPPED' } },
          expectedVersion: 1,
          attempt: { insert: { ...attempt, attemptId: 'cas.2', seq: 2 } },
          events: [
            { runId: 'cas', at: 3_002, type: 'stop', status: 'STOPPED', attemptId: null, reason: null },
          ],
        },
      ]);
      expect(lost).toEqual([]);
      expect((await store.getRun('cas'))!.state.status).toBe('PENDING');
      expect((await store.attempts('cas')).map((a) => a.attemptId)).toEqual(['cas.1']);
      expect((await store.runEvents('cas')).map((e) => e.type)).toEqual(['queued', 'launching']);
      const flying = await store.inFlight(['local']);
      expect(flying.find((f) => f.attempt.attemptId === 'cas.1')).toMatchObject({
        run: { runId: 'cas' },
        attempt: { epoch: 7, state: 'launching' },
      });
      await store.patchAttempts([
        { attemptId: 'cas.1', state: 'running', handle: { pid: 42 }, launchedAt: 3_003 },
      ]);
      expect(await store.getAttempt('cas.1')).toMatchObject({
        state: 'running',
        handle: { pid: 42 },
        launchedAt: 3_003,
      });
      const ended = { kind: 'exited' as const, exitCode: 0 };
      await store.applyChanges([
        {
          run: { ...pending, version: 2, state: { ...pending.state, status: 'STOPPED', exitCode: 0 } },
          expectedVersion: 2,
          attempt: { patch: { attemptId: 'cas.1', state: 'ended', outcome: ended, endedAt: 3_004 } },
          events: [],
        },
      ]);
      expect(await store.getAttempt('cas.1')).toMatchObject({
        state: 'ended',
        outcome: ended,
        handle: { pid: 42 },
      });
      expect((await store.inFlight(['local'])).some((f) => f.attempt.attemptId === 'cas.1')).toBe(false);
    });

    it('answers queued runs oldest first, due retries and the next timer', async () => {
      await store.insertRun(newRun('q-late', { cluster: 'qc' }, 9_002));
      await store.insertRun(newRun('q-early', { cluster: 'qc' }, 9_001));
      expect((await store.queuedRuns(['qc'], 10)).map((r) => r.runId)).toEqual(['q-early', 'q-late']);
      expect(await store.queuedRuns(['other'], 10)).toEqual([]);
      await store.insertRun(newRun('retry', {}, 9_100));
      const r = (await store.getRun('retry'))!;
      await store.applyChanges([
        {
          run: { ...r, state: { ...r.state, status: 'NEEDS_RETRY', retryAt: 1 } },
          expectedVersion: 1,
          events: [],
        },
      ]);
      expect(await store.nextTimerAt(['local'])).toBe(1);
      expect(await store.nextTimerAt(['elsewhere'])).toBeNull();
      expect((await store.dueRetries(['local'], 1, 10)).map((x) => x.runId)).toEqual(['retry']);
      expect(await store.dueRetries(['local'], 0, 10)).toEqual([]);
      const counts = await store.countRunsByStatus();
      expect(counts.NEEDS_RETRY).toBe(1);
    });

    it('hands out leases with a growing fencing epoch, and keeps framework ids per cluster', async () => {
      const a1 = await store.acquireLease('scheduler', 'a', 1_000, 0);
      expect(await store.acquireLease('scheduler', 'b', 1_000, 500)).toBeNull();
      expect(await store.acquireLease('scheduler', 'a', 1_000, 600)).toBe(a1);
      const b = await store.acquireLease('scheduler', 'b', 1_000, 5_000);
      expect(b).toBe(a1! + 1);
      expect(await store.getFrameworkId('mesos-1')).toBeNull();
      await store.setFrameworkId('mesos-1', 'fw-1', 1);
      await store.setFrameworkId('mesos-1', 'fw-2', 2);
      expect(await store.getFrameworkId('mesos-1')).toBe('fw-2');
    });
  });
}
