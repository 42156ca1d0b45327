import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * The OpenAPI 3 document at `/api/openapi.json` (generated from the routes' TypeBox schemas) and
 * its docs page at `/api/docs`. Must be registered before the routes.
 */
export async function openApiPlugin(app: FastifyInstance, options: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Galley API',
        version: options.version,
        description:
          'Flotilla-compatible jobs API (also mounted under /api/v6). Resources: `memory` in MB, `cpu` in millicores (1000 = one CPU). ' +
          'Bodies are JSON whatever their content type says, at most 1 MiB and 32 levels deep; every string and number ' +
          'has the bounds its schema shows, and no string may hold NUL or a lone surrogate. ' +
          'Errors are `{code, message, fields?}`, for every 4xx and 5xx. `GET /api/v1/stream` is a server-sent event stream: each change of a run is ' +
          '`event: run` with the run JSON as `data` and the run version as `id`.',
      },
      tags: [
        { name: 'definitions', description: 'What to run (flotilla "tasks")' },
        { name: 'runs', description: 'Executions, history, status, logs, stop, events' },
        { name: 'meta', description: 'Groups, tags, clusters, health' },
        {
          name: 'pipelines',
          description:
            "Faustian's long-running worker pipelines (also at /pipelines and /ping): instances kept running, scaled, rolling updates",
        },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

// Not encapsulated: swagger must see the routes registered beside it, not only inside this plugin.
Object.assign(openApiPlugin, { [Symbol.for('skip-override')]: true });
