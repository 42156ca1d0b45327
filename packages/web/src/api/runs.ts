import { errorFromResponse, requestJson, send } from './http.js';
import type { RunListQuery } from '@galley/server/api';
import type { HistoryPage, LogPage, Run, RunStatus, RunTimeline } from './types.js';

/** Columns the history can be sorted by: the server's RUN_SORT_FIELDS but `run_id`. */
export type RunSortField = Exclude<NonNullable<RunListQuery['sort_by']>, 'run_id'>;

/**
 * Filters, sort and page of the runs history. Times are ms since the epoch and bound `queued_at`
 * (both inclusive); undefined = unbounded. Empty strings mean "no filter".
 */
export interface HistoryQuery {
  statuses?: RunStatus[];
  alias?: string;
  group?: string;
  owner?: string;
  cluster?: string;
  queuedFrom?: number;
  queuedUntil?: number;
  sortBy: RunSortField;
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

/** One page of the runs history, flotilla's `{total, history, limit, offset, sort_by, order}`. */
export function listHistory(query: HistoryQuery, signal?: AbortSignal): Promise<HistoryPage> {
  return requestJson<HistoryPage>('GET', '/api/v1/history', {
    query: {
      status: query.statuses && query.statuses.length ? query.statuses : undefined,
      alias: query.alias,
      group_name: query.group,
      owner_id: query.owner,
      cluster: query.cluster,
      queued_after: query.queuedFrom !== undefined ? new Date(query.queuedFrom).toISOString() : undefined,
      queued_before: query.queuedUntil !== undefined ? new Date(query.queuedUntil).toISOString() : undefined,
      sort_by: query.sortBy,
      order: query.order,
      limit: query.limit,
      offset: query.offset,
    },
    signal,
  });
}

/** The run; ApiError 404 when there is none. */
export function getRun(runId: string, signal?: AbortSignal): Promise<Run> {
  return requestJson<Run>('GET', `/api/v1/history/${encodeURIComponent(runId)}`, { signal });
}

/** The run's timeline (oldest first) and its attempts (first first). */
export async function getRunTimeline(runId: string, signal?: AbortSignal): Promise<RunTimeline> {
  const answer = await requestJson<Partial<RunTimeline>>(
    'GET',
    `/api/v1/${encodeURIComponent(runId)}/events`,
    {
      signal,
    },
  );
  return { events: answer.events ?? [], attempts: answer.attempts ?? [] };
}

/**
 * What the server said about a stop request, in its own words. `accepted` is true when the run is
 * stopped now or a kill was sent (it stops when the process exits); `stopped` only when it is
 * STOPPED already.
 */
export interface StopAnswer {
  accepted: boolean;
  stopped: boolean;
  message: string;
  /** The run's status when the server answered. */
  status?: RunStatus;
}

/**
 * Asks the server to stop the run. Resolves with its answer, or throws ApiError when it refused
 * (409 when the run had already finished, 404 when there is no such run).
 */
export async function stopRun(runId: string): Promise<StopAnswer> {
  const body = await requestJson<Record<string, unknown> | undefined>(
    'POST',
    `/api/v1/history/${encodeURIComponent(runId)}/stop`,
  );
  const answer = body ?? {};
  const stopped = answer['stopped'] === true || answer['terminated'] === true;
  const accepted = stopped || answer['action'] === 'kill-sent';
  const message =
    typeof answer['message'] === 'string'
      ? answer['message']
      : accepted
        ? 'The server is stopping the run.'
        : 'The server did not stop the run.';
  const status = typeof answer['status'] === 'string' ? (answer['status'] as RunStatus) : undefined;
  return { accepted, stopped, message, status };
}

/** Bytes asked for per log page: big pages load a long log in few requests. */
export const LOG_PAGE_BYTES = 1_048_576;

/**
 * One page of the run's log after `lastSeen` (from the start when undefined). An empty `log`
 * means nothing new yet.
 */
export async function getLogPage(
  runId: string,
  lastSeen: string | undefined,
  signal?: AbortSignal,
): Promise<LogPage> {
  const response = await send('GET', `/api/v1/${encodeURIComponent(runId)}/logs`, {
    query: { last_seen: lastSeen, max_bytes: LOG_PAGE_BYTES },
    signal,
  });
  if (!response.ok) throw await errorFromResponse(response);
  return (await response.json()) as LogPage;
}
