import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RoutesOptions } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { Errors, Id, Nullable } from '../schemas/common.js';

/**
 * `GET /api/v1/clusters/{name}/capacity`: cluster capacity per Mesos role — the provider group,
 * its current and desired nodes, the demand, the agents (≤ 200), the drain in flight and the last
 * decisions (`?decisions=N`, default 20, ≤ 100) with their reasons. 404 for an unknown cluster; 409 when the cluster has no
 * capacity config.
 */

const Resources = Type.Object({ cpus: Type.Number(), mem: Type.Number({ description: 'MB' }) });

const RoleCapacity = Type.Object({
  role: Type.String(),
  provider: Type.String({ description: '`aws-asg` or `dry-run`' }),
  group: Type.String(),
  min: Type.Integer(),
  max: Type.Integer(),
  node: Resources,
  cooldown_seconds: Type.Number(),
  current_nodes: Nullable(Type.Integer()),
  desired_nodes: Nullable(Type.Integer()),
  needed_nodes: Nullable(Type.Integer()),
  demand: Nullable(
    Type.Object({
      running: Resources,
      queued: Type.Object({ cpus: Type.Number(), mem: Type.Number(), runs: Type.Integer() }),
    }),
  ),
  agents: Type.Array(
    Type.Object({
      agent_id: Type.String(),
      hostname: Type.String(),
      instance_id: Nullable(Type.String()),
      tasks: Type.Integer(),
      draining: Type.Boolean(),
    }),
    { maxItems: 200 },
  ),
  draining: Type.Array(
    Type.Object({
      agent_id: Type.String(),
      hostname: Type.String(),
      instance_id: Type.String(),
      phase: Type.String({ description: '`scheduled` (waiting for inverse offers), `down`, `terminated`' }),
      since: Type.Number({ description: 'ms since the epoch' }),
    }),
  ),
  last_scale_down_at: Nullable(Type.Number()),
  decisions: Type.Array(
    Type.Object({
      at: Type.Number({ description: 'ms since the epoch' }),
      action: Type.String({
        description: '`up`, `down`, `hold`, `drain`, `terminate`, `done`, `cancel`, `error`',
      }),
      current: Type.Integer(),
      desired: Type.Integer(),
      reason: Type.String(),
    }),
    { maxItems: 100 },
  ),
  error: Nullable(Type.String()),
  observed_at: Nullable(Type.Number()),
});

export const capacityRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { deps, documented }) => {
  app.get(
    '/clusters/:name/capacity',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['meta'],
        hide: !documented,
        summary: 'Cluster capacity per Mesos role: nodes now and wanted, demand, agents, drains, decisions',
        params: Type.Object({ name: Id }),
        querystring: Type.Object({
          decisions: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 100,
              default: 20,
              description: 'Last decisions per role, ≤ 100.',
            }),
          ),
        }),
        response: {
          200: Type.Object({ cluster: Type.String(), roles: Type.Array(RoleCapacity) }),
          ...Errors,
        },
      },
    },
    async (request) => {
      const { name } = request.params;
      if (!deps.runs.backends.some((b) => b.cluster === name)) throw notFound('cluster', name);
      const roles = deps.capacity ? await deps.capacity.capacity(name, request.query.decisions ?? 20) : null;
      if (roles === null)
        throw new ApiError(
          409,
          'CAPACITY_NOT_CONFIGURED',
          `cluster ${JSON.stringify(name)} has no roles in the capacity config (--capacity-config)`,
        );
      return { cluster: name, roles };
    },
  );
};
