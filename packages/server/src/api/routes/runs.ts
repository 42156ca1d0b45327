import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { auditEntryOf } from '../../auth/audit-rows.js';
import type { DefinitionRecord, RunRecord } from '../../model/records.js';
import type { RunQuery } from '../../store/store.js';
import { ApiError, notFound } from '../errors.js';
import { buildRun, withDefinitionDefaults } from '../execute.js';
import { insertExecuted } from '../../queues/execute.js';
import { presentRun, presentTimeline } from '../present.js';
import type { RoutesOptions } from '../deps.js';
import { Errors, Id, MAX_LIMIT } from '../schemas/common.js';
import {
  ExecuteBody,
  Run,
  RunEvents,
  RunList,
  RunListQuery,
  RunStatus,
  StopAnswer,
} from '../schemas/runs.js';

/** How long an execute reuses a cluster's description (ms). */
const DESCRIBE_EVERY_MS = 1_000;

/** ms since the epoch from `123` or an ISO 8601 time; ApiError 400 naming the parameter otherwise. */
function parseTime(value: string | undefined, param: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  // JavaScript's dates end 8.64e15 ms from the epoch; the store's times are ms in a bigint.
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw new ApiError(400, 'VALIDATION_FAILED', `${param} must be an ISO 8601 time or ms since the epoch`, {
      [`query.${param}`]: 'is not a time',
    });
  }
  return ms;
}

/** Runs: execute a definition, history with filters, one run, its status (ETag), its timeline, and stop. */
export const runRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { deps, documented }) => {
  const { store, runs } = deps;
  const tags = ['runs'];
  const hide = !documented;
  const runParams = Type.Object({ run_id: Id });
  const defRunParams = Type.Object({ definition_id: Id, run_id: Id });

  const load = async (runId: string) => (await store.getRun(runId)) ?? Promise.reject(notFound('run', runId));
  /** A run named through the path of a definition it is not a run of. */
  const ofAnother = (run: RunRecord, definitionId: string) =>
    new ApiError(
      404,
      'RUN_OF_ANOTHER_DEFINITION',
      `run ${JSON.stringify(run.runId)} is not a run of definition ${JSON.stringify(definitionId)}: ` +
        `it is a run of ${JSON.stringify(run.alias)} (definition ${run.definitionId}); ` +
        `use /task/${run.definitionId}/history/${run.runId} or /history/${run.runId}`,
      { 'params.definition_id': `is not the definition of run ${run.runId}` },
    );

  // ---- execute: a definition becomes a QUEUED run ----

  const clusters = new Map(runs.backends.map((b) => [b.cluster, b.kind]));
  const backendOf = new Map(runs.backends.map((b) => [b.cluster, b]));
  // An execute reads only what the cluster runs on and its bounds, which change with the cluster's
  // set-up, not with each offer: one description a second is enough. (A Mesos cluster's description
  // turns every offer into a node: made for each execute it was a fifth of bench:mesos's CPU.)
  const described = new Map<string, { at: number; info: ReturnType<typeof describeNow> }>();
  const describeNow = (cluster: string) => backendOf.get(cluster)?.describe();
  const describe = (cluster: string) => {
    const now = deps.clock.now();
    const last = described.get(cluster);
    if (last && now - last.at < DESCRIBE_EVERY_MS && now >= last.at) return last.info;
    const info = describeNow(cluster);
    described.set(cluster, { at: now, info });
    return info;
  };
  const roles = new Map(runs.backends.flatMap((b) => (b.roles ? [[b.cluster, b.roles] as const] : [])));
  const loadDefinition = async (id: string) =>
    (await store.getDefinition(id)) ?? Promise.reject(notFound('definition', id));
  const loadAlias = async (alias: string) =>
    (await store.getDefinitionByAlias(alias)) ?? Promise.reject(notFound('definition with alias', alias));
  const { clock } = deps;
  const execute = async (def: DefinitionRecord, asked: ExecuteBody, req: FastifyRequest) => {
    const body = withDefinitionDefaults(def, asked);
    const newRun = buildRun(def, body, {
      clusters,
      describe,
      roles,
      defaultCluster: deps.config.cluster,
      serverMode: deps.config.serverMode,
      now: clock.now(),
      runId: deps.newId(),
    });
    // The request's audit entry is stored with its run (an accepted execute answers 200).
    const audit = auditEntryOf(req, 200, clock.now());
    const { run, created, audited } = await insertExecuted(store, body, newRun, audit);
    req.auditStored = audited;
    if (created) {
      deps.feed.publish([run]);
      runs.wake();
    }
    return presentRun(run);
  };
  const executeSchema = { tags, hide, body: ExecuteBody, response: { 200: Run, ...Errors } };

  app.put(
    '/task/:definition_id/execute',
    {
      config: { permission: 'run' },
      schema: { ...executeSchema, summary: 'Run a definition', params: Type.Object({ definition_id: Id }) },
    },
    async (req) => execute(await loadDefinition(req.params.definition_id), req.body, req),
  );

  app.put(
    '/task/alias/:alias/execute',
    {
      config: { permission: 'run' },
      schema: { ...executeSchema, summary: 'Run a definition by alias', params: Type.Object({ alias: Id }) },
    },
    async (req) => execute(await loadAlias(req.params.alias), req.body, req),
  );

  const list = async (q: RunListQuery, definitionId?: string) => {
    const limit = Math.min(q.limit ?? 1024, MAX_LIMIT);
    const env = (q.env ?? []).map((pair) => {
      const cut = pair.indexOf('|');
      return { name: pair.slice(0, cut), value: pair.slice(cut + 1) };
    });
    const query: RunQuery = {
      equals: {
        run_id: q.run_id,
        definition_id: definitionId ?? q.definition_id,
        alias: q.alias,
        group_name: q.group_name,
        image: q.image,
        cluster: q.cluster,
        owner_id: q.owner_id,
        exit_code: q.exit_code === undefined ? undefined : String(q.exit_code),
        attempt_count: q.attempt_count === undefined ? undefined : String(q.attempt_count),
        idempotence_key: q.idempotence_key,
        engine: q.engine,
        parent_id: q.parent_id,
      },
      statuses: q.status ?? [],
      env,
      sortBy: q.sort_by ?? 'queued_at',
      order: q.order ?? 'desc',
      limit,
      offset: q.offset ?? 0,
      exactTotal: q.exact_total === true,
    };
    const from = parseTime(q.queued_after, 'queued_after');
    const until = parseTime(q.queued_before, 'queued_before');
    if (from !== undefined) query.queuedFrom = from;
    if (until !== undefined) query.queuedUntil = until;
    const page = await store.listRuns(query);
    return {
      total: page.total,
      total_exact: page.totalExact,
      history: page.items.map(presentRun),
      limit,
      offset: query.offset,
      sort_by: query.sortBy,
      order: query.order,
    };
  };
  type RunListQuery = typeof RunListQuery.static;
  const listSchema = { tags, hide, querystring: RunListQuery, response: { 200: RunList, ...Errors } };

  app.get(
    '/history',
    {
      config: { permission: 'read' },
      schema: { ...listSchema, summary: 'List runs (any field as a filter; newest first by default)' },
    },
    (req) => list(req.query),
  );
  app.get(
    '/task/:definition_id/history',
    {
      config: { permission: 'read' },
      schema: {
        ...listSchema,
        summary: 'List the runs of a definition',
        params: Type.Object({ definition_id: Id }),
      },
    },
    async (req) => {
      const definitionId = req.params.definition_id;
      // An unknown definition is a 404, unless runs of it remain (it was deleted; they stay in history).
      if (!(await store.getDefinition(definitionId))) {
        const left = await store.listRuns({
          equals: { definition_id: definitionId },
          statuses: [],
          env: [],
          sortBy: 'queued_at',
          order: 'desc',
          limit: 0,
          offset: 0,
        });
        if (left.total === 0) throw notFound('definition', definitionId);
      }
      return list(req.query, definitionId);
    },
  );

  const one = { tags, hide, response: { 200: Run, ...Errors } };
  app.get(
    '/history/:run_id',
    { config: { permission: 'read' }, schema: { ...one, summary: 'Get a run', params: runParams } },
    async (req) => presentRun(await load(req.params.run_id)),
  );
  app.get(
    '/task/history/:run_id',
    { config: { permission: 'read' }, schema: { ...one, summary: 'Get a run', params: runParams } },
    async (req) => presentRun(await load(req.params.run_id)),
  );
  app.get(
    '/task/:definition_id/history/:run_id',
    {
      config: { permission: 'read' },
      schema: { ...one, summary: 'Get a run of a definition', params: defRunParams },
    },
    async (req) => {
      const run = await load(req.params.run_id);
      if (run.definitionId !== req.params.definition_id) throw ofAnother(run, req.params.definition_id);
      return presentRun(run);
    },
  );

  app.get(
    '/:run_id/status',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        hide,
        summary:
          "Poll a run's status: ETag of status and exit code; If-None-Match answers 304 when unchanged",
        params: runParams,
        response: { 200: RunStatus, 304: Type.Null(), ...Errors },
      },
    },
    async (req, reply) => {
      const r = await load(req.params.run_id);
      const etag = `"${r.state.status}-${r.state.exitCode ?? 'none'}"`;
      reply.header('etag', etag).header('cache-control', 'no-cache');
      const inm = req.headers['if-none-match'];
      if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))
        return reply.status(304).send(null);
      const p = presentRun(r);
      return {
        run_id: p.run_id,
        definition_id: p.definition_id,
        alias: p.alias,
        status: p.status,
        exit_code: p.exit_code,
        exit_reason: p.exit_reason,
        queued_reason: p.queued_reason,
        queued_at: p.queued_at,
        started_at: p.started_at,
        finished_at: p.finished_at,
        attempt_count: p.attempt_count,
      };
    },
  );

  app.get(
    '/:run_id/events',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        hide,
        summary: "A run's timeline (status changes with times and reasons) and attempts",
        params: runParams,
        response: { 200: RunEvents, ...Errors },
      },
    },
    async (req) => {
      const run = await load(req.params.run_id);
      const [events, attempts] = await Promise.all([store.runEvents(run.runId), store.attempts(run.runId)]);
      return presentTimeline(run, events, attempts);
    },
  );

  const stop = async (runId: string, definitionId?: string) => {
    if (definitionId !== undefined) {
      const run = await load(runId);
      if (run.definitionId !== definitionId) throw ofAnother(run, definitionId);
    }
    const answer = await runs.requestStop(runId, 'stopped by request');
    switch (answer.result) {
      case 'not-found':
        throw notFound('run', runId);
      case 'already-stopped':
        throw new ApiError(
          409,
          'ALREADY_STOPPED',
          `run ${runId} already finished (${answer.run.state.exitReason ?? 'STOPPED'}); nothing was done`,
        );
      case 'stopped':
        return {
          run_id: runId,
          stopped: true,
          action: 'stopped-while-queued' as const,
          message: 'the run had not started; it is STOPPED and will not run',
          status: answer.run.state.status,
        };
      case 'kill-sent':
        return {
          run_id: runId,
          stopped: false,
          action: 'kill-sent' as const,
          message: answer.signalled
            ? `SIGTERM sent; SIGKILL follows after ${deps.config.local.stopGraceMs} ms if it is still running; the run becomes STOPPED when it exits`
            : 'its attempt was already ending; the run becomes STOPPED when the backend reports the end',
          status: answer.run.state.status,
        };
    }
  };
  const stopSchema = { tags, hide, response: { 200: StopAnswer, ...Errors } };
  app.delete(
    '/task/:definition_id/history/:run_id',
    {
      config: { permission: 'stop' },
      schema: {
        ...stopSchema,
        summary: 'Stop a run (flotilla route); 409 when it already finished',
        params: defRunParams,
      },
    },
    (req) => stop(req.params.run_id, req.params.definition_id),
  );
  app.post(
    '/history/:run_id/stop',
    {
      config: { permission: 'stop' },
      schema: { ...stopSchema, summary: 'Stop a run; 409 when it already finished', params: runParams },
    },
    (req) => stop(req.params.run_id),
  );
};
