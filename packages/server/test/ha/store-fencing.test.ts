import { storeMatrix } from '@galley/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ChangeNotice } from '../../src/store/notify.js';
import { listenForChanges } from '../../src/store/change-listener.js';
import { openLeaseSession } from '../../src/store/lease-session.js';
import { openStore, type StoreLocation } from '../../src/store/open.js';
import { DataDirLockedError } from '../../src/store/data-dir-lock.js';
import { StaleEpochError, type Store } from '../../src/store/store.js';
import type { RunRecord } from '../../src/model/records.js';
import { newRun } from '../store/fixtures.js';

// Leases, fencing and notifications, on PGlite and on PostgreSQL (issue 13).

const matrix = await storeMatrix({ tempPrefix: 'galley-ha-store-' });
afterAll(() => matrix.stop());

/** A change that makes a QUEUED run PENDING with its first attempt, written under `epoch`. */
function launch(run: RunRecord, epoch: number, at: number) {
  const attemptId = `${run.runId}.1`;
  return {
    run: {
      ...run,
      state: {
        ...run.state,
        status: 'PENDING' as const,
        attemptCount: 1,
        attemptId,
        attemptIds: [attemptId],
      },
    },
    expectedVersion: run.version,
    attempt: {
      insert: {
        attemptId,
        runId: run.runId,
        seq: 1,
        cluster: 'local',
        nodeId: 'local',
        epoch,
        state: 'launching' as const,
        handle: null,
        outcome: null,
        createdAt: at,
        launchedAt: null,
        endedAt: null,
      },
    },
    events: [],
  };
}

for (const backend of matrix.stores) {
  describe.runIf(backend.available)(`leases and fencing on ${backend.name}`, () => {
    let store: Store;
    let location: StoreLocation;
    beforeAll(async () => {
      location = await backend.location();
      store = await openStore(location, { origin: 'replica-a' });
    });
    afterAll(async () => store?.close());

    it('renews an epoch only while it is current, and a fresh holding always grows it', async () => {
      const first = (await store.acquireLease('l1', 'a', 1_000, 0))!;
      expect(await store.acquireLease('l1', 'a', 1_000, 100, { renew: first })).toBe(first);
      expect(await store.acquireLease('l1', 'b', 1_000, 200)).toBeNull();
      const fresh = await store.acquireLease('l1', 'a', 1_000, 300, { fresh: true });
      expect(fresh).toBe(first + 1);
      // The old epoch cannot be renewed any more.
      expect(await store.acquireLease('l1', 'a', 1_000, 400, { renew: first })).toBeNull();
      const b = await store.acquireLease('l1', 'b', 1_000, 5_000);
      expect(b).toBe(first + 2);
      expect(await store.getLease('l1')).toMatchObject({
        holder: 'b',
        epoch: b,
        since: 5_000,
        expiresAt: 6_000,
      });
      await store.releaseLease('l1', 'b', b!);
      expect(await store.acquireLease('l1', 'c', 1_000, 5_001)).toBe(first + 3);
      expect(await store.leaseHistory('l1')).toEqual([
        { epoch: first, holder: 'a', acquiredAt: 0 },
        { epoch: first + 1, holder: 'a', acquiredAt: 300 },
        { epoch: first + 2, holder: 'b', acquiredAt: 5_000 },
        { epoch: first + 3, holder: 'c', acquiredAt: 5_001 },
      ]);
    });

    it('refuses run changes, attempt patches and pipeline saves made under a stale epoch, storing nothing', async () => {
      const old = (await store.acquireLease('sched', 'old', 1_000, 0))!;
      await store.insertRun(newRun('fenced-1', {}, 10));
      await store.insertRun(newRun('fenced-2', {}, 11));
      const [r1, r2] = await store
        .getRuns(['fenced-1', 'fenced-2'])
        .then((rs) => rs.sort((x, y) => x.runId.localeCompare(y.runId)));
      const [stored] = await store.applyChanges([launch(r1!, old, 20)], { name: 'sched', epoch: old });
      expect(stored?.state.status).toBe('PENDING');

      const now = (await store.acquireLease('sched', 'new', 1_000, 2_000))!;
      expect(now).toBe(old + 1);
      const stale = store.applyChanges([launch(r2!, old, 2_001)], { name: 'sched', epoch: old });
      await expect(stale).rejects.toBeInstanceOf(StaleEpochError);
      expect((await store.getRun('fenced-2'))?.state.status).toBe('QUEUED');
      expect(await store.attempts('fenced-2')).toEqual([]);
      await expect(
        store.patchAttempts([{ attemptId: 'fenced-1.1', state: 'ended', endedAt: 3 }], {
          name: 'sched',
          epoch: old,
        }),
      ).rejects.toBeInstanceOf(StaleEpochError);
      expect((await store.getAttempt('fenced-1.1'))?.state).toBe('launching');
      await expect(store.setFrameworkId('c', 'fw', 1, { name: 'sched', epoch: old })).rejects.toBeInstanceOf(
        StaleEpochError,
      );
      expect(await store.getFrameworkId('c')).toBeNull();

      // The current epoch writes.
      const [ok] = await store.applyChanges([launch(r2!, now, 2_002)], { name: 'sched', epoch: now });
      expect(ok?.state.status).toBe('PENDING');
      expect((await store.getAttempt('fenced-2.1'))?.epoch).toBe(now);
    });

    it('refuses a fenced pipeline save, instance save or delete under a stale epoch', async () => {
      const old = (await store.acquireLease('pipes', 'old', 1_000, 0))!;
      const now = (await store.acquireLease('pipes', 'new', 1_000, 5_000))!;
      const spec = { id: 'fp', instances: 1 } as never;
      const pipeline = {
        pipelineId: 'fp',
        uid: 'u0001',
        cluster: 'local',
        spec,
        version: 1,
        instanceSeq: 0,
        update: null,
        updateSeq: 0,
        deletingAt: null,
        createdAt: 1,
        updatedAt: 1,
      };
      await store.createPipeline(pipeline);
      const later = { ...pipeline, instanceSeq: 5, updatedAt: 2 };
      await expect(
        store.savePipeline({ pipeline: later }, { name: 'pipes', epoch: old }),
      ).rejects.toBeInstanceOf(StaleEpochError);
      expect((await store.getPipeline('fp'))?.instanceSeq).toBe(0);
      await expect(store.saveInstances([], { name: 'pipes', epoch: old })).resolves.toBeUndefined();
      await expect(store.deletePipeline('fp', { name: 'pipes', epoch: old })).rejects.toBeInstanceOf(
        StaleEpochError,
      );
      expect(await store.savePipeline({ pipeline: later }, { name: 'pipes', epoch: now })).toBe(true);
      expect(await store.deletePipeline('fp', { name: 'pipes', epoch: now })).toBe(true);
    });

    it('keeps each replica with its address and last heartbeat', async () => {
      await store.saveReplica({ replicaId: 'r1', host: 'h1', url: null, startedAt: 1, seenAt: 10 });
      await store.saveReplica({ replicaId: 'r1', host: 'h1', url: 'http://h1:1', startedAt: 1, seenAt: 20 });
      await store.saveReplica({ replicaId: 'r2', host: 'h2', url: 'http://h2:1', startedAt: 2, seenAt: 5 });
      expect(await store.listReplicas(15)).toEqual([
        { replicaId: 'r1', host: 'h1', url: 'http://h1:1', startedAt: 1, seenAt: 20 },
      ]);
      await store.removeReplica('r1');
      expect((await store.listReplicas(0)).map((r) => r.replicaId)).toEqual(['r2']);
    });

    if (backend.name === 'PGlite')
      it('refuses a second store on the same data directory while the first is open', async () => {
        await expect(openStore(location)).rejects.toBeInstanceOf(DataDirLockedError);
        await expect(openStore(location)).rejects.toThrow(/in use by another Galley server/);
      });

    if (backend.name === 'PostgreSQL') {
      it('frees a lease held through a session as soon as that session ends, not at its expiry', async () => {
        const url = (location as { databaseUrl: string }).databaseUrl;
        const lost = vi.fn();
        const holder = openLeaseSession({ url, queryTimeoutMs: 5_000, onLost: lost });
        const other = openLeaseSession({ url, queryTimeoutMs: 5_000, onLost: () => undefined });
        const now = Date.now();
        const epoch = (await holder.acquireLease('sess', 'h', 60_000, now))!;
        expect(await other.acquireLease('sess', 'o', 60_000, now + 1)).toBeNull();
        await holder.close(); // as a dead process's connection: PostgreSQL ends the session
        const taken = await vi.waitFor(
          async () => {
            const e = await other.acquireLease('sess', 'o', 60_000, now + 2);
            if (e === null) throw new Error('not yet');
            return e;
          },
          { timeout: 10_000, interval: 20 },
        );
        expect(taken).toBe(epoch + 1);
        await other.close();
        expect(lost).not.toHaveBeenCalled();
      });

      it('notifies other replicas of inserted and changed runs and of pipeline changes, at commit', async () => {
        const url = (location as { databaseUrl: string }).databaseUrl;
        const heard: ChangeNotice[] = [];
        const listener = await listenForChanges({
          url,
          origin: 'replica-b',
          onNotice: (n) => heard.push(n),
          onGap: () => undefined,
        });
        const mine: ChangeNotice[] = [];
        const own = await listenForChanges({
          url,
          origin: 'replica-a',
          onNotice: (n) => mine.push(n),
          onGap: () => undefined,
        });
        try {
          await store.insertRun(newRun('notified', {}, 30));
          const run = (await store.getRun('notified'))!;
          await store.applyChanges([launch(run, 1, 31)]);
          await store.createPipeline({
            pipelineId: 'np',
            uid: 'u0002',
            cluster: 'local',
            spec: { id: 'np', instances: 1 } as never,
            version: 1,
            instanceSeq: 0,
            update: null,
            updateSeq: 0,
            deletingAt: null,
            createdAt: 1,
            updatedAt: 1,
          });
          await vi.waitFor(() => expect(heard).toHaveLength(3), { timeout: 10_000 });
          expect(heard).toEqual([
            { kind: 'runs', origin: 'replica-a', runs: [{ runId: 'notified', version: 1 }] },
            { kind: 'runs', origin: 'replica-a', runs: [{ runId: 'notified', version: 2 }] },
            { kind: 'pipeline', origin: 'replica-a', pipelineId: 'np' },
          ]);
          // A replica does not hear itself.
          expect(mine).toEqual([]);
        } finally {
          await listener.close();
          await own.close();
        }
      });

      it('splits the runs of a large change into several notifications', async () => {
        const url = (location as { databaseUrl: string }).databaseUrl;
        const heard: ChangeNotice[] = [];
        const listener = await listenForChanges({
          url,
          origin: 'replica-b',
          onNotice: (n) => heard.push(n),
          onGap: () => undefined,
        });
        try {
          const ids = Array.from({ length: 150 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
          await Promise.all(ids.map((id, i) => store.insertRun(newRun(id, {}, 100 + i))));
          const runs = await store.getRuns(ids);
          await store.applyChanges(runs.map((r) => launch(r, 1, 500)));
          await vi.waitFor(
            () => {
              const changed = heard
                .flatMap((n) => (n.kind === 'runs' ? n.runs : []))
                .filter((r) => r.version === 2);
              expect(changed.map((r) => r.runId).sort()).toEqual(ids);
            },
            { timeout: 10_000 },
          );
          expect(heard.length).toBeGreaterThan(2);
        } finally {
          await listener.close();
        }
      });
    }
  });
}
