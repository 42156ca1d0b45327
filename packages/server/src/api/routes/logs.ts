import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RunRecord } from '../../model/records.js';
import type { RoutesOptions } from '../deps.js';
import { notFound } from '../errors.js';
import { readLogPage, type LogSelection } from '../log-reader.js';
import { decodeLogToken, encodeLogToken, type LogPosition } from '../log-token.js';
import { Errors, Id } from '../schemas/common.js';
import { LogsPage, LogsQuery } from '../schemas/runs.js';

const DEFAULT_PAGE_BYTES = 65_536;

/** A run's output: pages with an opaque `last_seen` token, raw text, or a follow stream. */
export const logRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { deps, documented }) => {
  const { store, runs, feed } = deps;

  /** Resolves at the next stored change of the run, or after `ms`. */
  const nextChange = (runId: string, ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const unsubscribe = feed.subscribe((r) => r.runId === runId && done());
      function done() {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      }
    });

  async function* follow(
    first: RunRecord,
    start: LogPosition | null,
    selection: LogSelection,
    maxBytes: number,
  ) {
    let position = start;
    let run: RunRecord | null = first;
    for (;;) {
      // Read the status BEFORE the output: if it was STOPPED then, all its output is in the files.
      run = await store.getRun(first.runId);
      if (!run) return;
      const page = await readLogPage(runs.backendFor(run.cluster), run, position, selection, maxBytes);
      position = page.position;
      if (page.data.length > 0) yield page.data;
      if (!page.caughtUp) continue;
      if (run.state.status === 'STOPPED' && position.seq >= run.state.attemptCount) return;
      if (page.data.length === 0) await nextChange(run.runId, deps.config.logFollowMs);
    }
  }

  app.get(
    '/:run_id/logs',
    {
      schema: {
        tags: ['runs'],
        hide: !documented,
        summary:
          "A run's output, a page at a time (O(page) per read); raw_text for plain text; follow=true streams until the run stops",
        params: Type.Object({ run_id: Id }),
        querystring: LogsQuery,
        response: { 200: LogsPage, ...Errors },
      },
    },
    async (req, reply) => {
      const run = await store.getRun(req.params.run_id);
      if (!run) throw notFound('run', req.params.run_id);
      const q = req.query;
      const start = q.last_seen ? decodeLogToken(q.last_seen) : null;
      const selection = q.stream ?? 'both';
      const maxBytes = q.max_bytes ?? DEFAULT_PAGE_BYTES;
      if (q.follow) {
        reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-cache');
        // Streams and buffers bypass the JSON response schema (the typed reply only knows the JSON shape).
        return reply.send(
          Readable.from(follow(run, start, selection, maxBytes), { objectMode: false }) as never,
        );
      }
      const page = await readLogPage(runs.backendFor(run.cluster), run, start, selection, maxBytes);
      const token = encodeLogToken(page.position);
      if (q.raw_text) {
        reply.header('content-type', 'text/plain; charset=utf-8').header('x-galley-last-seen', token);
        return reply.send(page.data as never);
      }
      return { log: page.data.toString('utf8'), last_seen: token };
    },
  );
};
