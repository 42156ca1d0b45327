import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DEFAULT_QUEUE } from '@galley/core';
import { Type } from '@sinclair/typebox';
import { childrenOf, deleteQueue, listQueues, putQueue, type QueueRecord } from '../../queues/queues-sql.js';
import type { SqlClient } from '../../store/sql-client.js';
import { ApiError, notFound } from '../errors.js';
import { presentRun } from '../present.js';
import type { RoutesOptions } from '../deps.js';
import { Errors, Id, MAX_LIMIT, PagingQuery } from '../schemas/common.js';
import { Queue, QueueBody, QueueList, QueueName } from '../schemas/queues.js';
import { RunList } from '../schemas/runs.js';

/** Queues (list, put, delete) and an array's children (issue 16). */
export const queueRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { deps, documented }) => {
  const { store, runs, clock } = deps;
  const db = (store as { sql?: SqlClient }).sql;
  if (!db) return;
  const tags = ['queues'];
  const hide = !documented;

  /** Runs waiting in and holding capacity of each queue. */
  const usage = async () => {
    const { rows } = await db.query<{ queue: string; status: string; n: unknown }>(
      `SELECT queue, status, count(*) AS n FROM runs WHERE status IN ('QUEUED', 'PENDING', 'RUNNING')
         AND (batch ->> 'kind') IS DISTINCT FROM 'array' GROUP BY 1, 2`,
    );
    const out = new Map<string, { queued: number; running: number }>();
    for (const r of rows) {
      const u = out.get(r.queue) ?? { queued: 0, running: 0 };
      if (r.status === 'QUEUED') u.queued += Number(r.n);
      else u.running += Number(r.n);
      out.set(r.queue, u);
    }
    return out;
  };
  const present = (q: QueueRecord, u: { queued: number; running: number } | undefined): Queue => ({
    name: q.name,
    priority: q.priority,
    owner_concurrency: q.ownerConcurrency ?? null,
    group_concurrency: q.groupConcurrency ?? null,
    owner_cpu: q.ownerCpus === undefined ? null : Math.round(q.ownerCpus * 1000),
    owner_memory: q.ownerMemMb ?? null,
    description: q.description,
    queued: u?.queued ?? 0,
    running: u?.running ?? 0,
  });

  app.get(
    '/queues',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        hide,
        summary: 'List queues (the default queue always exists)',
        response: { 200: QueueList },
      },
    },
    async () => {
      const [queues, used] = await Promise.all([listQueues(db), usage()]);
      const all = queues.some((q) => q.name === DEFAULT_QUEUE)
        ? queues
        : [
            ...queues,
            { name: DEFAULT_QUEUE, priority: 0, description: 'Runs that name no queue.', updatedAt: 0 },
          ];
      return { queues: all.map((q) => present(q, used.get(q.name))) };
    },
  );

  app.put(
    '/queues/:name',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        hide,
        summary: 'Create or replace a queue (admin)',
        params: Type.Object({ name: QueueName }),
        body: QueueBody,
        response: { 200: Queue, ...Errors },
      },
    },
    async (req) => {
      const b = req.body;
      const q: QueueRecord = {
        name: req.params.name,
        priority: b.priority ?? 0,
        description: b.description ?? '',
        updatedAt: clock.now(),
        ...(b.owner_concurrency !== undefined ? { ownerConcurrency: b.owner_concurrency } : {}),
        ...(b.group_concurrency !== undefined ? { groupConcurrency: b.group_concurrency } : {}),
        ...(b.owner_cpu !== undefined ? { ownerCpus: b.owner_cpu / 1000 } : {}),
        ...(b.owner_memory !== undefined ? { ownerMemMb: b.owner_memory } : {}),
      };
      await putQueue(db, q);
      runs.wake();
      return present(q, (await usage()).get(q.name));
    },
  );

  app.delete(
    '/queues/:name',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        hide,
        summary: 'Delete a queue (admin); runs in it keep its name and the default limits',
        params: Type.Object({ name: QueueName }),
        response: { 200: Type.Object({ deleted: Type.Boolean() }), ...Errors },
      },
    },
    async (req) => {
      if (req.params.name === DEFAULT_QUEUE && !(await listQueues(db)).some((q) => q.name === DEFAULT_QUEUE))
        throw new ApiError(409, 'DEFAULT_QUEUE', 'the default queue always exists', {
          'params.name': 'is the default queue',
        });
      if (!(await deleteQueue(db, req.params.name))) throw notFound('queue', req.params.name);
      runs.wake();
      return { deleted: true };
    },
  );

  app.get(
    '/history/:run_id/children',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['runs'],
        hide,
        summary: "An array's children, by index",
        params: Type.Object({ run_id: Id }),
        querystring: Type.Object(
          { limit: PagingQuery.limit, offset: PagingQuery.offset },
          { additionalProperties: false },
        ),
        response: { 200: RunList, ...Errors },
      },
    },
    async (req) => {
      const parent = await store.getRun(req.params.run_id);
      if (!parent) throw notFound('run', req.params.run_id);
      const limit = Math.min(req.query.limit ?? 1024, MAX_LIMIT);
      const offset = req.query.offset ?? 0;
      const page = await childrenOf(db, parent.runId, limit, offset);
      return {
        total: page.total,
        total_exact: true,
        history: page.items.map(presentRun),
        limit,
        offset,
        sort_by: 'array_index',
        order: 'asc',
      };
    },
  );
};
