import type { AutoscalingSource } from '@galley/core';
import { matchingJobs, parseScheduledJobs } from './gocd.js';
import { authHeader, describeUrl, requestOk } from './http.js';
import { numberAt } from './json-path.js';

/**
 * Reading a pipeline's metric from its source. Each reader answers a number or throws a message
 * fit for the decisions table (never a credential).
 */

/** What the readers need besides the source. */
export interface SourceContext {
  /** QUEUED runs of a definition (id or alias) or group of this server's store. */
  queuedRuns(filter: { definition?: string; group?: string }): Promise<number>;
  /**
   * GoCD: the pipeline's own agents that are building now — the backlog in flight, added to the
   * scheduled jobs (a busy pool keeps its size while jobs wait). Undefined = scheduled jobs only.
   */
  gocdBuilding?: () => Promise<number>;
  timeoutMs: number;
}

const base = (url: string): string => url.replace(/\/+$/, '');

function json(text: string, url: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${describeUrl(url)} did not answer JSON`);
  }
}

/**
 * Prometheus' instant query: a scalar is its value; a vector is the sum of its samples, and an
 * EMPTY vector is 0 (no series = no backlog, as KEDA's `ignoreNullValues` default); an error
 * status, a matrix or a NaN is an error.
 */
export function prometheusValue(doc: unknown): number {
  const d = doc as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  if (d?.status !== 'success') throw new Error(`prometheus: ${d?.error ?? 'query failed'}`);
  const sample = (v: unknown): number => {
    const n = Number((v as [number, string] | undefined)?.[1]);
    if (!Number.isFinite(n))
      throw new Error('prometheus: the query answered a value that is not a finite number');
    return n;
  };
  const { resultType, result } = d.data ?? {};
  if (resultType === 'scalar') return sample(result);
  if (resultType === 'vector' && Array.isArray(result))
    return result.reduce((sum: number, r: { value?: unknown }) => sum + sample(r.value), 0);
  throw new Error(
    `prometheus: the query answered a ${resultType ?? 'missing'} result, not a scalar or vector`,
  );
}

/**
 * Jenkins' queue (`/queue/api/json`): items that wait to be built (not `blocked`, not cancelled);
 * with a label, only those whose `why` names it (Jenkins says "Waiting for next available executor
 * on ‘label’" or "There are no nodes with the label ‘label’").
 */
export function jenkinsBacklog(doc: unknown, label?: string): number {
  const items = (doc as { items?: unknown })?.items;
  if (!Array.isArray(items)) throw new Error('jenkins: the queue answer has no items[]');
  return items.filter((raw) => {
    const i = raw as { blocked?: boolean; cancelled?: boolean; why?: string | null };
    if (i.blocked === true || i.cancelled === true) return false;
    if (label === undefined) return true;
    const why = i.why ?? '';
    return why.includes(`‘${label}’`) || why.includes(`'${label}'`);
  }).length;
}

/** Reads the metric of `source` now. */
export async function readMetric(source: AutoscalingSource, ctx: SourceContext): Promise<number> {
  const timeoutMs = ctx.timeoutMs;
  switch (source.type) {
    case 'http': {
      const text = await requestOk(source.url, { headers: { accept: 'application/json' }, timeoutMs });
      return numberAt(json(text, source.url), source.json_path);
    }
    case 'prometheus': {
      const url = `${base(source.url)}/api/v1/query?query=${encodeURIComponent(source.query)}`;
      const text = await requestOk(url, { headers: { accept: 'application/json' }, timeoutMs });
      return prometheusValue(json(text, url));
    }
    case 'galley_queue':
      return ctx.queuedRuns({
        ...(source.definition !== undefined ? { definition: source.definition } : {}),
        ...(source.group !== undefined ? { group: source.group } : {}),
      });
    case 'gocd': {
      const url = `${base(source.url)}/go/api/jobs/scheduled.xml`;
      const xml = await requestOk(url, {
        headers: { accept: 'application/xml', ...authHeader(source.auth) },
        timeoutMs,
      });
      const waiting = matchingJobs(parseScheduledJobs(xml), {
        ...(source.resources !== undefined ? { resources: source.resources } : {}),
        ...(source.environment !== undefined ? { environment: source.environment } : {}),
      }).length;
      return waiting + (ctx.gocdBuilding ? await ctx.gocdBuilding() : 0);
    }
    case 'jenkins': {
      const url = `${base(source.url)}/queue/api/json`;
      const text = await requestOk(url, {
        headers: { accept: 'application/json', ...authHeader(source.auth) },
        timeoutMs,
      });
      return jenkinsBacklog(json(text, url), source.label);
    }
  }
}
