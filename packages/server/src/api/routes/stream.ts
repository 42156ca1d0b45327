import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { noIdleTimeout } from '../connection.js';
import type { RoutesOptions } from '../deps.js';
import { ApiError } from '../errors.js';
import { Id } from '../schemas/common.js';

/** Seconds a client refused for lack of room is told to wait before it tries again. */
const RETRY_AFTER_S = 5;

/**
 * `GET /stream`: server-sent events of run changes for UIs. Each change of a run is one
 * `event: run` whose `data` is the run JSON (as GET /history/{run_id}) and whose `id` is the run's
 * version. `run_id` (repeatable) limits it to some runs. A comment line every 15 s keeps it open.
 * Every change is serialised once for all clients (StreamHub); beyond the server's client cap a new
 * client gets 503 with Retry-After.
 */
export const streamRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { deps, documented }) => {
  app.get(
    '/stream',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['runs'],
        hide: !documented,
        summary: 'Server-sent events of run changes: `event: run`, `data: <run JSON>`, `id: <run version>`',
        querystring: Type.Object(
          {
            run_id: Type.Optional(
              Type.Array(Id, { maxItems: 1000, description: 'Repeatable (at most 1000): only these runs.' }),
            ),
          },
          { additionalProperties: false },
        ),
        produces: ['text/event-stream'],
      },
    },
    (req, reply) => {
      const only = req.query.run_id ? new Set(req.query.run_id) : null;
      if (!deps.stream.hasRoom()) {
        void reply.header('retry-after', String(RETRY_AFTER_S));
        throw new ApiError(
          503,
          'TOO_MANY_STREAMS',
          `the server streams to ${deps.stream.maxClients} clients already; try again in ${RETRY_AFTER_S} s`,
        );
      }
      // Per token (auth none has none: the global cap alone applies).
      const key = req.principal && req.principal.via !== 'none' ? req.principal.key : null;
      if (key !== null && !deps.stream.hasRoomFor(key)) {
        void reply.header('retry-after', String(RETRY_AFTER_S));
        throw new ApiError(
          429,
          'TOO_MANY_STREAMS',
          `these credentials hold ${deps.stream.maxPerKey} streams already; close one first`,
        );
      }
      reply.hijack();
      // A comment every 15 s keeps it busy; still, no idle timeout on a stream's connection.
      noIdleTimeout(req);
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n: galley run stream\n\n');
      deps.stream.add(res, only, key);
    },
  );
};
