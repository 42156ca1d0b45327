import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './deps.js';
import { authRoutes } from './routes/auth.js';
import { definitionRoutes } from './routes/definitions.js';
import { logRoutes } from './routes/logs.js';
import { metaRoutes } from './routes/meta.js';
import { capacityRoutes } from './routes/capacity.js';
import { pipelineRoutes } from './routes/pipelines.js';
import { queueRoutes } from './routes/queues.js';
import { runRoutes } from './routes/runs.js';
import { scheduleRoutes } from './routes/schedules.js';
import { secretRoutes } from './routes/secrets.js';
import { webhookRoutes } from './routes/webhooks.js';
import { streamRoutes } from './routes/stream.js';

/** The API prefixes: flotilla mounts the same handlers under v1 and v6; only v1 is documented. */
export const API_PREFIXES = [
  { prefix: '/api/v1', documented: true },
  { prefix: '/api/v6', documented: false },
] as const;

/** Registers every API route under each prefix. */
export async function apiPlugin(app: FastifyInstance, options: { deps: ApiDeps }): Promise<void> {
  for (const { prefix, documented } of API_PREFIXES) {
    await app.register(
      async (scope) => {
        const opts = { deps: options.deps, documented };
        await scope.register(definitionRoutes, opts);
        await scope.register(runRoutes, opts);
        await scope.register(logRoutes, opts);
        await scope.register(metaRoutes, opts);
        await scope.register(streamRoutes, opts);
        await scope.register(queueRoutes, opts);
        await scope.register(pipelineRoutes, opts);
        await scope.register(capacityRoutes, opts);
        await scope.register(secretRoutes, opts);
        await scope.register(authRoutes, opts);
        await scope.register(scheduleRoutes, opts);
        await scope.register(webhookRoutes, opts);
      },
      { prefix },
    );
  }
}
