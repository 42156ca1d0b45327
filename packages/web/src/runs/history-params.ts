import { RUN_SORT_FIELDS } from '@galley/server/api';
import type { HistoryQuery, RunSortField } from '../api/runs.js';
import { RUN_STATUSES, type Run, type RunStatus } from '../api/types.js';
import { toMillis } from '../format/time.js';
import { runOwner } from './status.js';

/** The columns the page sorts by: the server's sortable run columns but `run_id` (no column of the table). */
const SORT_FIELDS: readonly RunSortField[] = RUN_SORT_FIELDS.filter((f): f is RunSortField => f !== 'run_id');

/** Defaults of the runs page: newest first, 25 a page. */
export const DEFAULT_HISTORY: HistoryQuery = { sortBy: 'queued_at', order: 'desc', limit: 25, offset: 0 };

function int(value: string | null, fallback: number, min: number, max: number): number {
  const n = value === null ? NaN : Number(value);
  return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
}

/**
 * The runs page's query from its URL (`?status=RUNNING,QUEUED&alias=…&group=…&owner=…&from=…&to=…
 * &sort=…&order=…&limit=…&offset=…`; times in ms). Unknown or bad values fall back to defaults.
 */
export function historyFromParams(params: URLSearchParams): HistoryQuery {
  const statuses = (params.get('status') ?? '')
    .split(',')
    .filter((s): s is RunStatus => (RUN_STATUSES as readonly string[]).includes(s));
  const sort = params.get('sort') as RunSortField | null;
  const from = params.get('from');
  const to = params.get('to');
  return {
    statuses,
    alias: params.get('alias') ?? '',
    group: params.get('group') ?? '',
    owner: params.get('owner') ?? '',
    cluster: params.get('cluster') ?? '',
    queuedFrom: from ? (toMillis(from) ?? undefined) : undefined,
    queuedUntil: to ? (toMillis(to) ?? undefined) : undefined,
    sortBy: sort && SORT_FIELDS.includes(sort) ? sort : DEFAULT_HISTORY.sortBy,
    order: params.get('order') === 'asc' ? 'asc' : 'desc',
    limit: int(params.get('limit'), DEFAULT_HISTORY.limit, 1, 500),
    offset: int(params.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER),
  };
}

/** The URL params of a query; defaults are left out so URLs stay short. */
export function historyToParams(query: HistoryQuery): URLSearchParams {
  const p = new URLSearchParams();
  if (query.statuses?.length) p.set('status', query.statuses.join(','));
  if (query.alias) p.set('alias', query.alias);
  if (query.group) p.set('group', query.group);
  if (query.owner) p.set('owner', query.owner);
  if (query.cluster) p.set('cluster', query.cluster);
  if (query.queuedFrom !== undefined) p.set('from', String(query.queuedFrom));
  if (query.queuedUntil !== undefined) p.set('to', String(query.queuedUntil));
  if (query.sortBy !== DEFAULT_HISTORY.sortBy) p.set('sort', query.sortBy);
  if (query.order !== DEFAULT_HISTORY.order) p.set('order', query.order);
  if (query.limit !== DEFAULT_HISTORY.limit) p.set('limit', String(query.limit));
  if (query.offset) p.set('offset', String(query.offset));
  return p;
}

/** Whether a run (as the stream sent it) belongs in the list the query describes. */
export function runMatches(run: Run, query: HistoryQuery): boolean {
  if (query.statuses?.length && !query.statuses.includes(run.status)) return false;
  if (query.alias && run.alias !== query.alias) return false;
  if (query.group && run.group_name !== query.group) return false;
  if (query.owner && runOwner(run) !== query.owner) return false;
  if (query.cluster && run.cluster !== query.cluster) return false;
  const queued = toMillis(run.queued_at);
  if (queued !== null && query.queuedFrom !== undefined && queued < query.queuedFrom) return false;
  if (queued !== null && query.queuedUntil !== undefined && queued > query.queuedUntil) return false;
  return true;
}
