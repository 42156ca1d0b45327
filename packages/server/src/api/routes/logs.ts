import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RunRecord } from '../../model/records.js';
import { noIdleTimeout } from '../connection.js';
import type { RoutesOptions } from '../deps.js';
import { notFound } from '../errors.js';
import { proxyLocalLogs } from '../log-proxy.js';
import { type LogPage, readLogPage, type LogSelection } from '../log-reader.js';
import { decodeLogToken, encodeLogToken } from '../log-token.js';
import { Errors, Id } from '../schemas/common.js';
import { LogsPage, LogsQuery } from '../schemas/runs.js';

const DEFAULT_PAGE_BYTES = 65_536;

/** The log query, whose `stream` may also be `executor`: the backend's own executor lines, apart. */
const Query = Type.Object(
  {
    ...LogsQuery.properties,
    stream: Type.Optional(
      Type.Union(
        [Type.Literal('both'), Type.Literal('stdout'), Type.Literal('stderr'), Type.Literal('executor')],
        {
          description:
            "Default both: the program's stdout, then its stderr. `executor`: the lines the Mesos command executor wrote into them (its glog lines), for debugging; empty on other backends.",
        },
      ),
    ),
  },
  { additionalProperties: false },
);

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

  /**
   * The output from `first` (a page already read, so that a log that cannot be read is answered as
   * an error before the stream starts) until the run stops.
   */
  async function* follow(run: RunRecord, first: LogPage, selection: LogSelection, maxBytes: number) {
    let page = first;
    let current: RunRecord | null = run;
    for (;;) {
      if (page.data.length > 0) yield page.data;
      if (page.caughtUp) {
        if (current.state.status === 'STOPPED' && page.position.seq >= current.state.attemptCount) return;
        if (page.data.length === 0) await nextChange(run.runId, deps.config.logFollowMs);
      }
      // Read the status BEFORE the output: if it was STOPPED then, all its output is in the files.
      current = await store.getRun(run.runId);
      if (!current) return;
      page = await readLogPage(runs.backendFor(current.cluster), current, page.position, selection, maxBytes);
    }
  }

  app.get(
    '/:run_id/logs',
    {
      config: { permission: 'logs' },
      schema: {
        tags: ['runs'],
        hide: !documented,
        summary:
          "A run's output, a page at a time (O(page) per read); raw_text for plain text; follow=true streams until the run stops",
        params: Type.Object({ run_id: Id }),
        querystring: Query,
        response: { 200: LogsPage, ...Errors },
      },
    },
    async (req, reply) => {
      const run = await store.getRun(req.params.run_id);
      if (!run) throw notFound('run', req.params.run_id);
      // A local run of another host: its replica there answers (issue 13).
      if (await proxyLocalLogs(deps, run, req, reply)) return reply;
      const q = req.query;
      const start = q.last_seen ? decodeLogToken(q.last_seen) : null;
      const selection = q.stream ?? 'both';
      const maxBytes = q.max_bytes ?? DEFAULT_PAGE_BYTES;
      const page = await readLogPage(runs.backendFor(run.cluster), run, start, selection, maxBytes);
      if (q.follow) {
        // A follower may wait long between outputs: no idle timeout on its connection.
        noIdleTimeout(req);
        reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-cache');
        // Streams and buffers bypass the JSON response schema (the typed reply only knows the JSON shape).
        return reply.send(
          Readable.from(follow(run, page, selection, maxBytes), { objectMode: false }) as never,
        );
      }
      const token = encodeLogToken(page.position);
      if (q.raw_text) {
        reply.header('content-type', 'text/plain; charset=utf-8').header('x-galley-last-seen', token);
        return reply.send(page.data as never);
      }
      return { log: page.data.toString('utf8'), last_seen: token };
    },
  );
};
