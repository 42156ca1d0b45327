import { InsertBatcher } from './insert-batcher.js';
import { LookupBatcher } from './lookup-batcher.js';
import type { SqlClient } from './sql-client.js';
import * as defs from './definitions-sql.js';
import * as runs from './runs-sql.js';
import { applyWave, patchAttemptRows, waves } from './run-changes-sql.js';
import * as pipelines from './pipelines-sql.js';
import type { Store } from './store.js';
import type { RunRecord } from '../model/records.js';

/** The Store over a SqlClient (PostgreSQL or PGlite): the one implementation Galley has. */
export function createSqlStore(db: SqlClient): Store {
  const inserts = new InsertBatcher((batch) => runs.insertRuns(db, batch), runs.MAX_INSERT_BATCH);
  // Executes read their definition and API reads their run: concurrent ones share a statement.
  const definitionsById = new LookupBatcher((ids) => defs.getDefinitions(db, 'definition_id', ids));
  const definitionsByAlias = new LookupBatcher((aliases) => defs.getDefinitions(db, 'alias', aliases));
  const runsById = new LookupBatcher(
    async (ids) => new Map((await runs.getRuns(db, ids)).map((r) => [r.runId, r])),
  );
  return {
    kind: db.kind,
    createDefinition: (input, id, now) => defs.createDefinition(db, input, id, now),
    getDefinition: (id) => definitionsById.get(id),
    getDefinitionByAlias: (alias) => definitionsByAlias.get(alias),
    updateDefinition: (id, next, now) => defs.updateDefinition(db, id, next, now),
    deleteDefinition: (id) => defs.deleteDefinition(db, id),
    listDefinitions: (q) => defs.listDefinitions(db, q),
    listGroups: () => defs.listGroups(db),
    listTags: () => defs.listTags(db),

    insertRun: (run) => inserts.add(run),
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
    async applyChanges(changes) {
      if (changes.length === 0) return [];
      // Almost always one wave (each run changed once): one statement, atomic on its own. A run
      // changed twice puts its second change in a second wave, applied after the first.
      const batches = waves(changes, (c) => c.run.runId);
      if (batches.length === 1) return applyWave(db, batches[0]!);
      return db.transaction(async (tx) => {
        const out: RunRecord[] = [];
        for (const wave of batches) out.push(...(await applyWave(tx, wave)));
        return out;
      });
    },
    async patchAttempts(patches) {
      if (patches.length === 0) return;
      await db.transaction((tx) => patchAttemptRows(tx, patches));
    },

    createPipeline: (p) => pipelines.createPipeline(db, p),
    getPipeline: (id) => pipelines.getPipeline(db, id),
    listPipelines: () => pipelines.listPipelines(db),
    pipelineVersions: (id) => pipelines.pipelineVersions(db, id),
    pipelineInstances: (id) => pipelines.pipelineInstances(db, id),
    pipelineUpdates: (id) => pipelines.pipelineUpdates(db, id),
    savePipeline: (change) => pipelines.savePipeline(db, change),
    saveInstances: (instances) => pipelines.saveInstances(db, instances),
    deletePipeline: (id) => pipelines.deletePipeline(db, id),

    async getFrameworkId(cluster) {
      const { rows } = await db.query<{ framework_id: string }>(
        'SELECT framework_id FROM framework_ids WHERE cluster = $1',
        [cluster],
      );
      return rows[0]?.framework_id ?? null;
    },
    async setFrameworkId(cluster, frameworkId, now) {
      await db.query(
        `INSERT INTO framework_ids (cluster, framework_id, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (cluster) DO UPDATE SET framework_id = $2, updated_at = $3`,
        [cluster, frameworkId, now],
      );
    },
    async acquireLease(name, holder, ttlMs, now) {
      const { rows } = await db.query<{ epoch: unknown }>(
        `INSERT INTO leases (name, holder, epoch, expires_at) VALUES ($1, $2, 1, $3)
         ON CONFLICT (name) DO UPDATE
           SET epoch = CASE WHEN leases.holder = $2 AND leases.expires_at > $4 THEN leases.epoch ELSE leases.epoch + 1 END,
               holder = $2, expires_at = $3
         WHERE leases.holder = $2 OR leases.expires_at <= $4
         RETURNING epoch`,
        [name, holder, now + ttlMs, now],
      );
      return rows[0] ? Number(rows[0].epoch) : null;
    },
    async ping() {
      await db.query('SELECT 1');
    },
    close: () => db.close(),
  };
}
