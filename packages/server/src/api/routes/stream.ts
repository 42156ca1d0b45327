import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RoutesOptions } from '../deps.js';
import { presentRun } from '../present.js';
import { Id } from '../schemas/common.js';

/** A client whose unsent backlog passes this many bytes is too slow and is disconnected. */
const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

/**
 * `GET /stream`: server-sent events of run changes for UIs. Each change of a run is one
 * `event: run` whose `data` is the run JSON (as GET /history/{run_id}) and whose `id` is the run's
 * version. `run_id` (repeatable) limits it to some runs. A comment line every 15 s keeps it open.
 */
export const streamRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { deps, documented }) => {
  app.get(
    '/stream',
    {
      schema: {
        tags: ['runs'],
        hide: !documented,
        summary: 'Server-sent events of run changes: `event: run`, `data: <run JSON>`, `id: <run version>`',
        querystring: Type.Object({ run_id: Type.Optional(Type.Array(Id)) }, { additionalProperties: false }),
        produces: ['text/event-stream'],
      },
    },
    (req, reply) => {
      const only = req.query.run_id ? new Set(req.query.run_id) : null;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n: galley run stream\n\n');
      const unsubscribe = deps.feed.subscribe((run) => {
        if (only && !only.has(run.runId)) return;
        if (res.writableLength > MAX_BACKLOG_BYTES) return void res.destroy();
        res.write(`id: ${run.version}\nevent: run\ndata: ${JSON.stringify(presentRun(run))}\n\n`);
      });
      const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      res.on('close', () => {
        unsubscribe();
        clearInterval(heartbeat);
      });
    },
  );
};
