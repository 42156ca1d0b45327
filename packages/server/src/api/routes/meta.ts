import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { liveReplicas } from '../../control/replicas.js';
import { SCHEDULER_LEASE } from '../../control/leadership.js';
import type { ApiDeps, RoutesOptions } from '../deps.js';
import { LeadershipJson } from '../schemas/leadership.js';
import { ApiError } from '../errors.js';
import { Errors } from '../schemas/common.js';
import { ClusterLimitsJson } from '../schemas/cluster-limits.js';
import { MesosAgentSupportJson } from '../schemas/mesos-agents.js';
import type { MesosAgentSupport } from '../../backends/backend.js';

const ClusterInfo = Type.Object({
  name: Type.String(),
  backend: Type.String(),
  state: Type.String(),
  runs_on_host: Type.Boolean(),
  note: Type.String(),
  capacity: Type.Object({
    cpus: Type.Number(),
    memory: Type.Number({ description: 'MB' }),
    gpus: Type.Number(),
  }),
  free: Type.Object({ cpus: Type.Number(), memory: Type.Number({ description: 'MB' }), gpus: Type.Number() }),
  running: Type.Integer(),
  default: Type.Boolean(),
  limits: ClusterLimitsJson,
  mesos: Type.Optional(
    Type.Object(
      {
        connection: Type.String({ description: '`subscribed`, `connecting`, `disconnected`, `stopped (…)`' }),
        framework_id: Type.Union([Type.String(), Type.Null()]),
        master: Type.Union([Type.String(), Type.Null()]),
        roles: Type.Array(Type.String()),
        agents: Type.Integer({
          description: 'Agents that offered resources since the framework subscribed.',
        }),
        offers_held: Type.Integer(),
        suppressed_roles: Type.Array(Type.String()),
        agent_support: Type.Array(MesosAgentSupportJson),
      },
      { description: 'Mesos clusters only: the framework and its connection.' },
    ),
  ),
});

/** The leadership as this replica sees it: itself when it leads, else the store's unexpired lease. */
export async function leadershipView(deps: ApiDeps): Promise<LeadershipJson> {
  const own = deps.runs.leadership;
  const now = deps.clock.now();
  const [lease, replicas] = await Promise.all([
    deps.store.getLease(SCHEDULER_LEASE),
    liveReplicas(deps.store, now),
  ]);
  const leader = own.isLeader();
  const held = leader || (lease !== null && lease.expiresAt > now) ? lease : null;
  const leaderId = leader ? own.id : (held?.holder ?? null);
  const since = leader ? (lease?.holder === own.id ? lease.since : own.since()) : (held?.since ?? null);
  return {
    leader,
    replica: own.id,
    leader_id: leaderId,
    leader_url: replicas.find((r) => r.replicaId === leaderId)?.url ?? null,
    epoch: leader ? own.epoch() : (held?.epoch ?? null),
    leader_since: since === null ? null : new Date(since).toISOString(),
    replicas: replicas.map((r) => ({ id: r.replicaId, host: r.host, url: r.url })),
  };
}

/** Groups, tags and clusters (real data), and health. */
export const metaRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { deps, documented }) => {
  const { store, runs } = deps;
  const hide = !documented;
  const tags = ['meta'];

  app.get(
    '/groups',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        hide,
        summary: 'Group names of definitions and runs',
        response: { 200: Type.Object({ total: Type.Integer(), groups: Type.Array(Type.String()) }) },
      },
    },
    async () => {
      const groups = await store.listGroups();
      return { total: groups.length, groups };
    },
  );

  app.get(
    '/tags',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        hide,
        summary: 'Tags of definitions',
        response: { 200: Type.Object({ total: Type.Integer(), tags: Type.Array(Type.String()) }) },
      },
    },
    async () => {
      const list = await store.listTags();
      return { total: list.length, tags: list };
    },
  );

  app.get(
    '/clusters',
    {
      config: { permission: 'read' },
      schema: {
        tags,
        hide,
        summary: 'Configured clusters: names (flotilla) and their state, capacity and free resources',
        response: {
          200: Type.Object({ clusters: Type.Array(Type.String()), details: Type.Array(ClusterInfo) }),
        },
      },
    },
    async () => {
      const details = runs.backends.map((b) => {
        const d = b.describe();
        return {
          name: d.name,
          backend: d.backend,
          state: d.state,
          runs_on_host: d.runsOnHost,
          note: d.note,
          capacity: { cpus: d.capacity.cpus, memory: d.capacity.memMb, gpus: d.capacity.gpus },
          free: { cpus: d.free.cpus, memory: d.free.memMb, gpus: d.free.gpus },
          running: d.running,
          default: d.name === deps.config.cluster,
          ...(d.limits ? { limits: d.limits } : {}),
          ...(d.mesos
            ? {
                mesos: {
                  connection: d.mesos.connection,
                  framework_id: d.mesos.frameworkId,
                  master: d.mesos.master,
                  roles: d.mesos.roles,
                  agents: d.mesos.agents,
                  offers_held: d.mesos.offersHeld,
                  suppressed_roles: d.mesos.suppressedRoles,
                  agent_support: d.mesos.agentSupport.map(agentSupportJson),
                },
              }
            : {}),
        };
      });
      return { clusters: details.map((d) => d.name), details };
    },
  );

  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        tags,
        hide,
        summary: 'Health: 200 when the store answers, 503 otherwise; who leads, the epoch and since when',
        response: {
          200: Type.Composite([
            Type.Object({
              status: Type.Literal('ok'),
              version: Type.String(),
              store: Type.String(),
              uptime_s: Type.Number(),
            }),
            LeadershipJson,
          ]),
          503: Errors[400],
        },
      },
    },
    async () => {
      let leadership;
      try {
        await store.ping();
        leadership = await leadershipView(deps);
      } catch {
        throw new ApiError(503, 'STORE_UNAVAILABLE', 'the store does not answer');
      }
      return {
        status: 'ok' as const,
        version: deps.version,
        store: store.kind,
        uptime_s: Math.round((deps.clock.now() - deps.startedAt) / 1000),
        ...leadership,
      };
    },
  );
};

/** The wire form of one Mesos agent as Galley runs work there (`MesosAgentSupportJson`). */
function agentSupportJson(a: MesosAgentSupport) {
  return {
    agent_id: a.agentId,
    hostname: a.hostname,
    images: a.images,
    image_failure: a.imageFailure,
    executor: a.executor,
    executor_failure: a.executorFailure,
  };
}
