import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { liveInstances } from '../../autoscaling/drain.js';
import type { RoutesOptions } from '../deps.js';
import { notFound } from '../errors.js';
import { AutoscalingStatusJson } from '../schemas/autoscaling.js';
import { Errors } from '../schemas/common.js';
import { PipelineIdParams } from '../schemas/pipelines.js';

/**
 * GET /pipelines/{id}/autoscaling (Faustian's path style, beside the pipeline): the count the
 * spec asks for, the instances not being stopped, the last decision's count and metric, and the
 * last decisions with their reasons, newest first.
 */
export const autoscalingRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, options) => {
  const { deps, documented } = options;
  app.get(
    '/pipelines/:pipeline_id/autoscaling',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['pipelines'],
        hide: !documented,
        summary:
          "A pipeline's autoscaling: current and desired instances, the metric, the last decisions and why",
        params: PipelineIdParams,
        response: { 200: AutoscalingStatusJson, 404: Errors[404] },
      },
    },
    async (req) => {
      const id = req.params.pipeline_id;
      const pipeline = await deps.store.getPipeline(id);
      if (!pipeline) throw notFound('pipeline', id);
      const [instances, decisions] = await Promise.all([
        deps.store.pipelineInstances(id),
        deps.autoscaling ? deps.autoscaling.decisions(id) : Promise.resolve([]),
      ]);
      const last = decisions[0];
      return {
        pipeline_id: id,
        enabled: pipeline.spec.autoscaling !== undefined,
        source: pipeline.spec.autoscaling?.source.type ?? null,
        current: pipeline.spec.instances,
        running: liveInstances(instances).length,
        desired: last?.desired ?? null,
        metric: last?.metric ?? null,
        decisions: decisions.map((d) => ({
          at: new Date(d.at).toISOString(),
          metric: d.metric,
          error: d.error,
          current: d.current,
          desired: d.desired,
          reason: d.reason,
        })),
      };
    },
  );
};
