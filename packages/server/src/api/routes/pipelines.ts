import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { PipelineSpecInput } from '@galley/core';
import type { RoutesOptions } from '../deps.js';
import { ApiError } from '../errors.js';
import { PipelineError } from '../../pipelines/errors.js';
import { presentPipeline } from '../present-pipelines.js';
import { pipelineLogRoutes } from './pipeline-logs.js';
import { autoscalingRoutes } from './autoscaling.js';
import { leadershipView } from './meta.js';
import { Errors, Text } from '../schemas/common.js';
import { PipelineBody, PipelinePatch } from '../schemas/pipeline-spec.js';
import { PingJson, PipelineIdParams, PipelineJson, PipelineMap } from '../schemas/pipelines.js';

/** Options of the pipelines routes. */
export interface PipelineRoutesOptions extends RoutesOptions {
  /**
   * Mounted at the root (Faustian's paths `/pipelines`, `/ping`), where the web UI also lives: a
   * browser navigating to `/pipelines…` (it accepts text/html) gets the UI's page, not JSON.
   */
  pageFallback?: boolean;
}

/** The controller's refusal as the API's error. */
function apiErrorOf(err: unknown): unknown {
  if (!(err instanceof PipelineError)) return err;
  const fields = err.fields
    ? Object.fromEntries(
        Object.entries(err.fields).map(([k, v]) => [k === '(body)' ? 'body' : `body.${k}`, v]),
      )
    : undefined;
  return new ApiError(err.status === 400 ? 400 : err.status, err.code, err.message, fields);
}

async function answer<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw apiErrorOf(err);
  }
}

/** Faustian's pipelines API: create (204), list with tasks[], read, change (PATCH), delete; and /ping. */
export const pipelineRoutes: FastifyPluginAsyncTypebox<PipelineRoutesOptions> = async (app, options) => {
  const { deps, documented, pageFallback } = options;
  // A process's output, under the same prefixes as the pipelines.
  await app.register(pipelineLogRoutes, { deps, documented });
  await app.register(autoscalingRoutes, { deps, documented });
  const { store, pipelines, clock } = deps;
  const hide = !documented;
  const tags = ['pipelines'];
  /** A browser asking for a page at a path the UI also serves: hand it to the UI. */
  const wantsPage = (req: FastifyRequest, reply: FastifyReply): boolean => {
    if (!pageFallback || !(req.headers.accept ?? '').includes('text/html')) return false;
    reply.callNotFound();
    return true;
  };
  const view = async (id: string) => {
    const pipeline = await store.getPipeline(id);
    if (!pipeline) return null;
    const [instances, history, versions] = await Promise.all([
      store.pipelineInstances(id),
      store.pipelineUpdates(id),
      store.pipelineVersions(id),
    ]);
    return presentPipeline({ pipeline, instances, history, versions }, clock.now(), pipelines.backoff);
  };

  app.get(
    '/pipelines',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        hide,
        summary: 'Every pipeline with its instances (`tasks[]`), by id',
        response: { 200: PipelineMap },
      },
    },
    async (req, reply) => {
      if (wantsPage(req, reply)) return reply;
      const out: Record<string, PipelineJson> = {};
      for (const p of await store.listPipelines()) {
        const v = await view(p.pipelineId);
        if (v) out[p.pipelineId] = v;
      }
      return out;
    },
  );

  app.post(
    '/pipelines',
    {
      config: { permission: 'define' },
      schema: {
        tags,
        hide,
        summary:
          'Create a pipeline (204); 400 naming each field of a wrong type, out of bounds or unknown, ' +
          '409 when the id exists, 422 naming each field that breaks a rule between fields',
        body: PipelineBody,
        response: { 204: Type.Null(), ...Errors },
      },
    },
    async (req, reply) => {
      // The schema's type is what core reads: a change to either that breaks the other fails here.
      const body: PipelineSpecInput = req.body;
      await answer(() => pipelines.create(body));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/pipelines/:pipeline_id',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        hide,
        summary: 'One pipeline with its instances, its update and the history of updates',
        params: PipelineIdParams,
        response: { 200: PipelineJson, 404: Errors[404] },
      },
    },
    async (req, reply) => {
      if (wantsPage(req, reply)) return reply;
      const v = await view(req.params.pipeline_id);
      if (!v)
        throw apiErrorOf(
          new PipelineError(
            404,
            'NOT_FOUND',
            `pipeline ${JSON.stringify(req.params.pipeline_id)} does not exist`,
          ),
        );
      return v;
    },
  );

  app.patch(
    '/pipelines/:pipeline_id',
    {
      config: { permission: 'define' },
      schema: {
        tags,
        hide,
        summary: 'Change a pipeline (204): only `instances` scales; anything else is a rolling update',
        params: PipelineIdParams,
        body: PipelinePatch,
        response: { 204: Type.Null(), ...Errors },
      },
    },
    async (req, reply) => {
      const change: Partial<PipelineSpecInput> = req.body;
      await answer(() => pipelines.patch(req.params.pipeline_id, change));
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/pipelines/:pipeline_id',
    {
      config: { permission: 'define' },
      schema: {
        tags,
        hide,
        summary: 'Delete a pipeline (204): every process is stopped within its grace period, then it is gone',
        params: PipelineIdParams,
        response: { 204: Type.Null(), 404: Errors[404], 409: Errors[409] },
      },
    },
    async (req, reply) => {
      await answer(() => pipelines.remove(req.params.pipeline_id));
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/pipelines',
    {
      config: { permission: 'define' },
      schema: {
        tags,
        hide,
        summary:
          'Delete the pipeline named by `id` (204), as DELETE /pipelines/{id} does: for an id no path can ' +
          'hold (stored before ids were bounded, and shown `failed`)',
        querystring: Type.Object(
          {
            id: Text(65_536, {
              minLength: 1,
              description: 'The pipeline id, of any length (`GET /pipelines` lists every id).',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), 404: Errors[404], 409: Errors[409] },
      },
    },
    async (req, reply) => {
      await answer(() => pipelines.remove(req.query.id));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/ping',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        hide,
        summary: 'Faustian’s ping: leadership, version, uptime and counts',
        response: { 200: PingJson },
      },
    },
    async () => {
      const [all, instances, leadership] = await Promise.all([
        store.listPipelines(),
        store.pipelineInstances(),
        leadershipView(deps),
      ]);
      return {
        ok: true,
        version: deps.version,
        uptime: Math.round((clock.now() - deps.startedAt) / 100) / 10,
        pipelines: all.length,
        tasks: instances.length,
        ...leadership,
      };
    },
  );
};
