import { InsertBatcher } from './insert-batcher.js';
import { LookupBatcher } from './lookup-batcher.js';
import type { SqlClient, SqlQuerier } from './sql-client.js';
import * as defs from './definitions-sql.js';
import * as runs from './runs-sql.js';
import { applyWave, patchAttemptRows, waves } from './run-changes-sql.js';
import * as pipelines from './pipelines-sql.js';
import type { Store } from './store.js';
import type { RunRecord } from '../model/records.js';
import * as leases from './leases-sql.js';
import type { NotifyContext } from './notify.js';

/** How a store is made. */
export interface SqlStoreOptions {
  /**
   * This replica's id. On PostgreSQL, writes of runs and pipelines then notify the other replicas
   * (LISTEN/NOTIFY, see notify.ts) as this origin; unset = no notifications.
   */
  origin?: string;
}

/** A Store with its SQL client: feature modules with their own tables (auth, …) query it directly. */
export type SqlBackedStore = Store & { readonly sql: SqlClient };

/** The Store over a SqlClient (PostgreSQL or PGlite): the one implementation Galley has. */
export function createSqlStore(db: SqlClient, options: SqlStoreOptions = {}): SqlBackedStore {
  const notify: NotifyContext | undefined =
    options.origin !== undefined && db.kind === 'postgres' ? { origin: options.origin } : undefined;
  const inserts = new InsertBatcher(
    (batch, audits) => runs.insertRuns(db, batch, notify, audits),
    runs.MAX_INSERT_BATCH,
  );
  // Executes read their definition and API reads their run: concurrent ones share a statement.
  const definitionsById = new LookupBatcher((ids) => defs.getDefinitions(db, 'definition_id', ids));
  const definitionsByAlias = new LookupBatcher((aliases) => defs.getDefinitions(db, 'alias', aliases));
  const runsById = new LookupBatcher(
    async (ids) => new Map((await runs.getRuns(db, ids)).map((r) => [r.runId, r])),
  );
  return {
    kind: db.kind,
    sql: db,
    createDefinition: (input, id, now) => defs.createDefinition(db, input, id, now),
    getDefinition: (id) => definitionsById.get(id),
    getDefinitionByAlias: (alias) => definitionsByAlias.get(alias),
    updateDefinition: (id, next, now) => defs.updateDefinition(db, id, next, now),
    deleteDefinition: (id) => defs.deleteDefinition(db, id),
    listDefinitions: (q) => defs.listDefinitions(db, q),
    listGroups: () => defs.listGroups(db),
    listTags: () => defs.listTags(db),

    insertRun: (run, audit) => inserts.add(run, audit),
    getRun: (id) => runsById.get(id),
    getRuns: (ids) => runs.getRuns(db, ids),
    listRuns: (q) => runs.listRuns(db, q),
    runEvents: (id) => runs.runEvents(db, id),
    attempts: (id) => runs.attempts(db, id),
    getAttempt: (id) => runs.getAttempt(db, id),
    countRunsByStatus: () => runs.countRunsByStatus(db),

    queuedRuns: (clusters, limit, after) => runs.queuedRuns(db, clusters, limit, after),
    dueRetries: (clusters, now, limit) => runs.dueRetries(db, clusters, now, limit),
    overdueRuns: (clusters, now, limit) => runs.overdueRuns(db, clusters, now, limit),
    nextTimerAt: (clusters) => runs.nextTimerAt(db, clusters),
    inFlight: (clusters) => runs.inFlight(db, clusters),
    async applyChanges(changes, fence) {
      if (changes.length === 0) return [];
      // Almost always one wave (each run changed once): one statement, atomic on its own. A run
      // changed twice puts its second change in a second wave, applied after the first.
      const batches = waves(changes, (c) => c.run.runId);
      const options = { fence, notify };
      if (batches.length === 1) return applyWave(db, batches[0]!, options);
      return db.transaction(async (tx) => {
        const out: RunRecord[] = [];
        for (const wave of batches) out.push(...(await applyWave(tx, wave, options)));
        return out;
      });
    },
    async patchAttempts(patches, fence) {
      if (patches.length === 0) return;
      await db.transaction(async (tx) => {
        if (fence) await leases.checkFence(tx, fence);
        await patchAttemptRows(tx, patches);
      });
    },

    createPipeline: (p) => pipelines.createPipeline(db, p, notify),
    getPipeline: (id) => pipelines.getPipeline(db, id),
    listPipelines: () => pipelines.listPipelines(db),
    pipelineVersions: (id) => pipelines.pipelineVersions(db, id),
    pipelineInstances: (id) => pipelines.pipelineInstances(db, id),
    pipelineUpdates: (id) => pipelines.pipelineUpdates(db, id),
    // The leader's own (fenced) saves need not wake anyone: only API changes are notified.
    savePipeline: (change, fence) =>
      pipelines.savePipeline(db, change, fence, fence === undefined ? notify : undefined),
    saveInstances: (instances, fence) => pipelines.saveInstances(db, instances, fence),
    deletePipeline: (id, fence) => pipelines.deletePipeline(db, id, fence),

    async getFrameworkId(cluster) {
      const { rows } = await db.query<{ framework_id: string }>(
        'SELECT framework_id FROM framework_ids WHERE cluster = $1',
        [cluster],
      );
      return rows[0]?.framework_id ?? null;
    },
    async setFrameworkId(cluster, frameworkId, now, fence) {
      const save = (q: SqlQuerier) =>
        q.query(
          `INSERT INTO framework_ids (cluster, framework_id, updated_at) VALUES ($1, $2, $3)
           ON CONFLICT (cluster) DO UPDATE SET framework_id = $2, updated_at = $3`,
          [cluster, frameworkId, now],
        );
      if (!fence) return void (await save(db));
      await db.transaction(async (tx) => {
        await leases.checkFence(tx, fence);
        await save(tx);
      });
    },
    acquireLease: (name, holder, ttlMs, now, options) =>
      leases.acquireLease(db, { name, holder, ttlMs, now, bindSession: false }, options),
    releaseLease: (name, holder, epoch) => leases.releaseLease(db, name, holder, epoch),
    getLease: (name) => leases.getLease(db, name),
    leaseHistory: (name) => leases.leaseHistory(db, name),
    saveReplica: (replica) => leases.saveReplica(db, replica),
    listReplicas: (seenSince) => leases.listReplicas(db, seenSince),
    removeReplica: (id) => leases.removeReplica(db, id),
    async ping() {
      await db.query('SELECT 1');
    },
    close: () => db.close(),
  };
}
