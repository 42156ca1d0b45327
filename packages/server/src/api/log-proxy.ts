import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { liveReplicas } from '../control/replicas.js';
import type { RunRecord } from '../model/records.js';
import type { ApiDeps } from './deps.js';
import { ApiError } from './errors.js';

/** Marks a request one replica passed to another, so it is never passed on again. */
const PROXIED = 'x-galley-proxied-by';
/** Headers of the other replica's answer that the client needs. */
const KEPT = ['content-type', 'cache-control', 'x-galley-last-seen'];

/**
 * Every replica serves a run's logs. A Mesos run's are read from its agent by whichever replica
 * is asked; a local run's output is in files on the host that ran it, so a replica on another host
 * passes the request to a live replica of that host (found in `replicas`) and streams its answer
 * back — a page, raw text or a follow stream alike. When no replica of that host answers, the
 * request is answered 503: the output cannot be read from here. Answers whether it was passed on
 * (the reply is then sent); false = read it here.
 */
export async function proxyLocalLogs(
  deps: ApiDeps,
  run: RunRecord,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<boolean> {
  const host = run.host?.hostId;
  if (deps.runs.backendFor(run.cluster)?.kind !== 'local' || !host || host === hostname()) return false;
  const unreadable = (why: string) =>
    new ApiError(
      503,
      'LOG_HOST_GONE',
      `run ${run.runId} ran on host ${host}: ${why}; its output cannot be read`,
    );
  if (req.headers[PROXIED] !== undefined) throw unreadable('it is not this replica’s host');
  const on = (await liveReplicas(deps.store, deps.clock.now())).filter((r) => r.host === host && r.url);
  if (on.length === 0) throw unreadable('no Galley replica of that host answers now');
  let res: Response | null = null;
  for (const replica of on) {
    try {
      res = await fetch(new URL(req.url, replica.url!), {
        headers: {
          accept: req.headers.accept ?? '*/*',
          [PROXIED]: deps.runs.leadership.id,
          // The caller's credentials: the other replica checks them as this one did.
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          ...(req.headers.cookie ? { cookie: req.headers.cookie } : {}),
        },
        signal: AbortSignal.timeout(10_000),
      });
      break;
    } catch {
      // Gone since its last heartbeat: another replica of the host may answer.
    }
  }
  if (!res) throw unreadable('no Galley replica of that host answers now');
  reply.status(res.status);
  for (const name of KEPT) {
    const value = res.headers.get(name);
    if (value !== null) reply.header(name, value);
  }
  if (!res.body) {
    await reply.send(null);
    return true;
  }
  // The body as it comes (a follow stream never ends before the run does); it bypasses the schema.
  await reply.send(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) as never);
  return true;
}
