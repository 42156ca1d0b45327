import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { LogUnavailableError } from '../../backends/backend.js';
import type { GroupRunner, ProcessLogChunk } from '../../backends/group-runner.js';
import { type InstanceRecord, isLaunchOver, type PipelineRecord } from '../../model/pipeline-records.js';
import { launchIdOf } from '../../pipelines/ids.js';
import { noIdleTimeout } from '../connection.js';
import type { RoutesOptions } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { completeUtf8Length, type LogSelection } from '../log-reader.js';
import { decodeLogToken, encodeLogToken, type LogPosition } from '../log-token.js';
import { Errors, Id, MAX_PATH_ID_LENGTH } from '../schemas/common.js';
import { LogsPage, LogsQuery } from '../schemas/runs.js';

// The output of one process of one pipeline instance, with the run logs' contract (pages with an
// opaque `last_seen` token, raw text, or a follow stream): the token's `seq` is the instance's
// launch (a restart is the next launch, so a reader goes on from one launch to the next, as a run's
// reader goes on from one attempt to the next); its offsets are bytes of stdout and stderr.

const DEFAULT_PAGE_BYTES = 65_536;

/** One page of a process's output and the position after it. */
interface ProcessLogPage {
  data: Buffer;
  position: LogPosition;
  /** True when the position's launch had no more output at read time. */
  caughtUp: boolean;
}

/** Everything a page is read from: the pipeline (its uid makes launch ids), the instance, the process. */
interface Source {
  runner: GroupRunner;
  pipeline: PipelineRecord;
  instance: InstanceRecord;
  process: string;
}

/**
 * Reads one page (at most `maxBytes`) from `start` (null = the start of the current launch):
 * stdout, then stderr (or one of them). When the position's launch has nothing more and a later
 * launch exists, moves on to it. The current launch's output that cannot be read throws
 * LogUnavailableError (502/503), never an empty page; an earlier launch's reads as empty (its
 * host may be gone; the reader goes on with the later launches).
 */
async function readPage(
  src: Source,
  start: LogPosition | null,
  selection: LogSelection,
  maxBytes: number,
): Promise<ProcessLogPage> {
  const current = src.instance.launch?.seq ?? 0;
  let position = start ?? { seq: current, stdout: 0, stderr: 0 };
  if (position.seq === 0 && current > 0) position = { seq: 1, stdout: 0, stderr: 0 };
  if (position.seq === 0 || position.seq > current)
    return { data: Buffer.alloc(0), position, caughtUp: true };
  for (;;) {
    const page = await readLaunch(src, position, selection, maxBytes);
    if (page.data.length > 0 || !page.caughtUp || position.seq >= current) return page;
    position = { seq: position.seq + 1, stdout: 0, stderr: 0 };
  }
}

async function readLaunch(
  src: Source,
  position: LogPosition,
  selection: LogSelection,
  maxBytes: number,
): Promise<ProcessLogPage> {
  const { pipeline, instance, process } = src;
  const launch = instance.launch;
  const isCurrent = launch !== null && launch.seq === position.seq;
  const ref = {
    launchId: isCurrent
      ? launch.launchId
      : launchIdOf(pipeline.pipelineId, instance.state.number, position.seq, pipeline.uid),
    process,
    agentId: isCurrent ? (launch.processes[process]?.agentId ?? null) : null,
  };
  const next = { ...position };
  const parts: Buffer[] = [];
  let room = maxBytes;
  let caughtUp = true;
  for (const stream of ['stdout', 'stderr'] as const) {
    if (selection !== 'both' && selection !== stream) continue;
    if (room === 0) {
      caughtUp = false;
      break;
    }
    const asked = room;
    let chunk: ProcessLogChunk;
    try {
      chunk = await src.runner.logs(ref, stream, position[stream], asked);
    } catch (err) {
      if (isCurrent || !(err instanceof LogUnavailableError)) throw err;
      chunk = { data: Buffer.alloc(0), nextOffset: position[stream], size: position[stream] };
    }
    // Never split a UTF-8 character between two pages: a full page ends at a character boundary.
    const full = chunk.data.length === asked;
    const data = full ? chunk.data.subarray(0, completeUtf8Length(chunk.data)) : chunk.data;
    parts.push(data);
    room -= data.length;
    next[stream] = position[stream] + data.length;
    // A stream not read to its end ends the page: the next stream's bytes come after all of its.
    // (A backend that cannot tell the size filled the page when there may be more.)
    const more = chunk.size === null ? full : chunk.nextOffset < chunk.size;
    if (data.length < chunk.data.length || more) {
      caughtUp = false;
      break;
    }
  }
  return { data: Buffer.concat(parts), position: next, caughtUp };
}

/** The instance will write no more: it is gone, or stopped with its launch over. */
function isOver(instance: InstanceRecord | null): boolean {
  if (instance === null) return true;
  const stopped = instance.state.phase === 'stopping' || instance.state.phase === 'stopped';
  return stopped && isLaunchOver(instance.launch);
}

const Params = Type.Object({
  pipeline_id: Id,
  instance_id: Type.String({
    minLength: 1,
    maxLength: MAX_PATH_ID_LENGTH,
    pattern: '^[a-zA-Z0-9_-]+\\.[0-9]{1,9}$',
    description: 'The instance id `<pipeline>.<n>` (as in `tasks[].id`).',
  }),
  process: Type.String({
    minLength: 1,
    maxLength: MAX_PATH_ID_LENGTH,
    pattern: '^[a-zA-Z0-9_-]+$',
    description: 'The process name (a key of `processes`).',
  }),
});

/**
 * `GET /pipelines/{id}/instances/{instance}/processes/{process}/logs`: a pipeline process's
 * output, a page at a time, as raw text, or followed (until the instance is stopped and gone).
 */
export const pipelineLogRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, options) => {
  const { deps, documented } = options;
  const { store, pipelines } = deps;

  /** The pipeline, instance and runner of a request; 404 naming what does not exist. */
  async function sourceOf(pipelineId: string, instanceId: string, process: string): Promise<Source> {
    const pipeline = await store.getPipeline(pipelineId);
    if (!pipeline) throw notFound('pipeline', pipelineId);
    const [instances, versions] = await Promise.all([
      store.pipelineInstances(pipelineId),
      store.pipelineVersions(pipelineId),
    ]);
    const instance = instances.find((i) => i.state.instanceId === instanceId);
    if (!instance) throw notFound(`instance of pipeline ${JSON.stringify(pipelineId)}`, instanceId);
    const spec = versions.get(instance.state.version) ?? pipeline.spec;
    if (!(process in spec.processes))
      throw new ApiError(
        404,
        'NOT_FOUND',
        `instance ${instanceId} has no process ${JSON.stringify(process)} (it has ${Object.keys(spec.processes).join(', ')})`,
      );
    const runner = pipelines.runnerOf(pipeline.cluster);
    if (!runner)
      throw new ApiError(
        503,
        'LOG_UNAVAILABLE',
        `cluster ${JSON.stringify(pipeline.cluster)} runs no pipelines`,
      );
    return { runner, pipeline, instance, process };
  }

  /** The instance now, or null when it (or its pipeline) is gone. */
  async function instanceNow(src: Source): Promise<InstanceRecord | null> {
    const all = await store.pipelineInstances(src.pipeline.pipelineId);
    return all.find((i) => i.state.instanceId === src.instance.state.instanceId) ?? null;
  }

  /**
   * The output from `first` (a page already read, so that output that cannot be read is answered as
   * an error before the stream starts) until the instance is over, or `signal` (the client left).
   */
  async function* follow(
    src: Source,
    first: ProcessLogPage,
    selection: LogSelection,
    maxBytes: number,
    signal: AbortSignal,
  ): AsyncGenerator<Buffer> {
    let page = first;
    let instance: InstanceRecord | null = src.instance;
    while (!signal.aborted) {
      if (page.data.length > 0) yield page.data;
      if (page.caughtUp) {
        if (isOver(instance) && page.position.seq >= (instance?.launch?.seq ?? 0)) return;
        if (page.data.length === 0) await pause(deps.config.logFollowMs, signal);
      }
      // Read the instance BEFORE the output: if it was over then, all its output is in the files.
      const now: InstanceRecord | null = await instanceNow(src);
      instance = now;
      page = await readPage({ ...src, instance: now ?? src.instance }, page.position, selection, maxBytes);
      if (now) src = { ...src, instance: now };
    }
  }

  app.get(
    '/pipelines/:pipeline_id/instances/:instance_id/processes/:process/logs',
    {
      config: { permission: 'logs' },
      schema: {
        tags: ['pipelines'],
        hide: !documented,
        summary:
          "A pipeline process's output (stdout, then stderr), a page at a time from the instance's current " +
          'launch on (a restart is the next launch); raw_text for plain text; follow=true streams until ' +
          'the instance is stopped',
        params: Params,
        querystring: LogsQuery,
        response: { 200: LogsPage, ...Errors },
      },
    },
    async (req, reply) => {
      const { pipeline_id, instance_id, process } = req.params;
      const src = await sourceOf(pipeline_id, instance_id, process);
      const q = req.query;
      const start = q.last_seen ? decodeLogToken(q.last_seen) : null;
      const selection = q.stream ?? 'both';
      const maxBytes = q.max_bytes ?? DEFAULT_PAGE_BYTES;
      const page = await readPage(src, start, selection, maxBytes);
      if (q.follow) {
        // A follower may wait long between outputs: no idle timeout on its connection; it ends
        // when the client goes.
        noIdleTimeout(req);
        const gone = new AbortController();
        reply.raw.on('close', () => gone.abort());
        reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-cache');
        const stream = Readable.from(follow(src, page, selection, maxBytes, gone.signal), {
          objectMode: false,
        });
        // Streams and buffers bypass the JSON response schema (the typed reply only knows the JSON shape).
        return reply.send(stream as never);
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

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
