// bench:scale's history measurement (see scale.ts): the requests a user of the UI and CLI sends,
// their latency one at a time with each one's store query timed alone beside it, and the plans
// of those queries (SCALE_EXPLAIN=1).
import type { Client as PgClient } from 'pg';
import { percentile } from './load.js';
import { listRuns } from '../src/store/runs-sql.js';
import type { SqlQuerier } from '../src/store/sql-client.js';
import type { RunQuery } from '../src/store/store.js';
import type { RunSortField } from '../src/model/sort-fields.js';

/** bench:scale's progress line, on stderr (the figures' JSON is the last line of stdout). */
export const log = (message: string) =>
  console.error(`[scale ${new Date().toISOString().slice(11, 19)}] ${message}`);

/** The history queries a user of the UI and CLI sends: filters, sorts, offsets; 50 a page. */
export function historyQueries(
  definitions: { id: string; alias: string; group: string }[],
  inFlight: boolean,
  owners: number,
): string[] {
  const queries: string[] = [];
  for (let i = 0; i < 40; i++) {
    const d = definitions[(i * 7) % definitions.length]!;
    const offset = (i % 5) * 50;
    queries.push(`/history?limit=50&offset=${offset}`);
    queries.push(`/history?status=STOPPED&group_name=${d.group}&limit=50&offset=${offset}`);
    queries.push(`/history?definition_id=${d.id}&status=STOPPED&exit_code=1&limit=50`);
    queries.push(`/history?owner_id=owner-${i % owners}&limit=50&offset=${offset}`);
    queries.push(`/history?alias=${d.alias}&sort_by=started_at&order=desc&limit=50`);
    if (inFlight) queries.push(`/history?status=RUNNING&group_name=${d.group}&limit=50&offset=${offset}`);
  }
  return queries;
}

/** A history request without its values but the status (RUNNING and STOPPED pages differ). */
const kindOf = (query: string) =>
  query.replace(/([a-z_]+)=([^&]*)/g, (_, k: string, v: string) => (k === 'status' ? `${k}=${v}` : k));

/** The store query a history request's parameters make (as the API's handler builds it). */
function runQueryOf(path: string): RunQuery {
  const p = new URLSearchParams(path.slice(path.indexOf('?') + 1));
  const equals: RunQuery['equals'] = {};
  for (const k of ['definition_id', 'alias', 'group_name', 'owner_id', 'exit_code'] as const) {
    const v = p.get(k);
    if (v !== null) equals[k] = v;
  }
  return {
    equals,
    statuses: p.getAll('status') as RunQuery['statuses'],
    env: [],
    sortBy: (p.get('sort_by') ?? 'queued_at') as RunSortField,
    order: p.get('order') === 'asc' ? 'asc' : 'desc',
    limit: Number(p.get('limit') ?? 1024),
    offset: Number(p.get('offset') ?? 0),
    exactTotal: p.get('exact_total') === 'true',
  };
}

/** A SqlQuerier over the bench's own connection; `explain` logs each statement's plan first. */
export function querier(db: PgClient, explain = false): SqlQuerier {
  return {
    async query<R>(text: string, params?: readonly unknown[]) {
      if (explain) {
        const plan = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params as unknown[]);
        const lines = plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']);
        log(`  ${text.replace(/\s+/g, ' ').slice(0, 160)}\n    ${lines.join('\n    ')}`);
      }
      const r = await db.query(text, params as unknown[]);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
    exec: async (script) => void (await db.query(script)),
  };
}

/**
 * Latencies of `samples` history requests, one at a time: p50 and p99. With `sql`, each request is
 * followed by the same store query sent straight to PostgreSQL: the SQL's own time, beside the
 * HTTP answer's (which also waits for the server's event loop, busy with the runs in flight).
 */
export async function historyLatency(url: string, queries: string[], samples: number, sql?: SqlQuerier) {
  const ms: number[] = [];
  const byKind = new Map<string, number[]>();
  const sqlByKind = new Map<string, number[]>();
  for (let i = 0; i < samples; i++) {
    const query = queries[i % queries.length]!;
    const started = performance.now();
    const res = await fetch(`${url}/api/v1${query}`);
    if (!res.ok) throw new Error(`history ${query}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    const took = performance.now() - started;
    ms.push(took);
    const kind = kindOf(query);
    byKind.set(kind, [...(byKind.get(kind) ?? []), took]);
    if (sql) {
      const t0 = performance.now();
      await listRuns(sql, runQueryOf(query));
      sqlByKind.set(kind, [...(sqlByKind.get(kind) ?? []), performance.now() - t0]);
    }
  }
  const p99 = (times: number[]) => Math.round(percentile(times, 99) * 10) / 10;
  const byQuery: Record<string, number> = {};
  const sqlByQuery: Record<string, number> = {};
  for (const [kind, times] of byKind) {
    byQuery[kind] = p99(times);
    const direct = sqlByKind.get(kind);
    if (direct) sqlByQuery[kind] = p99(direct);
    const sqlNote = direct
      ? `; SQL alone p50 ${percentile(direct, 50).toFixed(1)}, p99 ${p99(direct)} ms`
      : '';
    log(
      `  ${kind}: p50 ${percentile(times, 50).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms${sqlNote}`,
    );
  }
  return {
    p50_ms: Math.round(percentile(ms, 50) * 10) / 10,
    p99_ms: p99(ms),
    by_query: byQuery,
    sql_by_query: sqlByQuery,
  };
}

/** SCALE_EXPLAIN=1: EXPLAIN (ANALYZE, BUFFERS) of the statements of one request of each kind. */
export async function explainHistory(db: PgClient, queries: string[]) {
  const seen = new Set<string>();
  for (const query of queries) {
    const kind = kindOf(query);
    if (seen.has(kind)) continue;
    seen.add(kind);
    log(`EXPLAIN ${query}`);
    await listRuns(querier(db, true), runQueryOf(query));
  }
}
