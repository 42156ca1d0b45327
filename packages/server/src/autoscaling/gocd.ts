import type { SourceAuth } from '@galley/core';
import { authHeader, request, requestOk } from './http.js';

/**
 * GoCD: the backlog from `GET /go/api/jobs/scheduled.xml` (what gocd-mesos polled), and the
 * agents API (`/go/api/agents`, `Accept: application/vnd.go.cd.v7+json`) by which a scale-in
 * drains an agent: disable it, wait until its `build_state` is Idle, stop its instance, delete it.
 */

/** One scheduled job of scheduled.xml. */
export interface ScheduledJob {
  name: string;
  id: string;
  resources: string[];
  environment: string | null;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const decode = (s: string): string =>
  s
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, e: string) =>
      e.startsWith('#x') || e.startsWith('#X')
        ? String.fromCodePoint(parseInt(e.slice(2), 16))
        : e.startsWith('#')
          ? String.fromCodePoint(parseInt(e.slice(1), 10))
          : (ENTITIES[e.toLowerCase()] ?? ''),
    )
    .trim();

const attr = (tag: string, name: string): string => {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(tag);
  return m ? decode(m[2] ?? m[3] ?? '') : '';
};

/**
 * The jobs of GoCD's scheduled.xml (`<scheduledJobs><job name=… id=…>…<resources><resource>…
 * </resource></resources><environment>…</environment></job></scheduledJobs>`). Throws when the
 * document is not that.
 */
export function parseScheduledJobs(xml: string): ScheduledJob[] {
  if (!/<scheduledJobs[\s>/]/.test(xml)) throw new Error('scheduled.xml has no <scheduledJobs> element');
  const jobs: ScheduledJob[] = [];
  for (const m of xml.matchAll(/<job(\s[^>]*)?(?:\/>|>([\s\S]*?)<\/job>)/g)) {
    const open = m[1] ?? '';
    const body = m[2] ?? '';
    const resources = [...body.matchAll(/<resource>([\s\S]*?)<\/resource>/g)].map((r) => decode(r[1] ?? ''));
    const env = /<environment>([\s\S]*?)<\/environment>/.exec(body);
    jobs.push({
      name: attr(open, 'name'),
      id: attr(open, 'id'),
      resources,
      environment: env ? decode(env[1] ?? '') || null : null,
    });
  }
  return jobs;
}

/**
 * The jobs an agent of `resources` in `environment` could take: a job needs all of its
 * resources on the agent; with an environment, only that environment's jobs count. Unset filters
 * count every job.
 */
export function matchingJobs(
  jobs: readonly ScheduledJob[],
  filter: { resources?: readonly string[]; environment?: string },
): ScheduledJob[] {
  return jobs.filter(
    (j) =>
      (filter.resources === undefined || j.resources.every((r) => filter.resources!.includes(r))) &&
      (filter.environment === undefined || j.environment === filter.environment),
  );
}

/** A GoCD agent as the agents API answers it (the fields Galley reads). */
export interface GocdAgent {
  uuid: string;
  hostname: string;
  elastic_agent_id?: string | null;
  agent_config_state: 'Enabled' | 'Disabled' | 'Pending' | string;
  agent_state?: string;
  build_state: 'Idle' | 'Building' | 'Cancelled' | 'Unknown' | string;
}

const AGENTS_ACCEPT = 'application/vnd.go.cd.v7+json';

/** A client of one GoCD server's agents API. */
export class GocdAgents {
  constructor(
    private readonly base: string,
    private readonly auth: SourceAuth | undefined,
    private readonly timeoutMs: number,
  ) {}

  private headers(json = false): Record<string, string> {
    return {
      accept: AGENTS_ACCEPT,
      ...(json ? { 'content-type': 'application/json' } : {}),
      ...authHeader(this.auth),
    };
  }

  private url(path: string): string {
    return `${this.base.replace(/\/+$/, '')}${path}`;
  }

  /** Every agent. */
  async list(): Promise<GocdAgent[]> {
    const text = await requestOk(this.url('/go/api/agents'), {
      headers: this.headers(),
      timeoutMs: this.timeoutMs,
    });
    const doc = JSON.parse(text) as { _embedded?: { agents?: GocdAgent[] } };
    return doc._embedded?.agents ?? [];
  }

  /** Sets `agent_config_state` (Enabled or Disabled). */
  async setConfigState(uuid: string, state: 'Enabled' | 'Disabled'): Promise<void> {
    await requestOk(this.url(`/go/api/agents/${encodeURIComponent(uuid)}`), {
      method: 'PATCH',
      headers: this.headers(true),
      body: JSON.stringify({ agent_config_state: state }),
      timeoutMs: this.timeoutMs,
    });
  }

  /** Deletes a (disabled) agent; a 404 (gone already) is fine. */
  async remove(uuid: string): Promise<void> {
    const { status } = await request(this.url(`/go/api/agents/${encodeURIComponent(uuid)}`), {
      method: 'DELETE',
      headers: this.headers(),
      timeoutMs: this.timeoutMs,
    });
    if (status !== 404 && (status < 200 || status > 299))
      throw new Error(`DELETE agent ${uuid}: HTTP ${status}`);
  }
}

/** The pipeline's instance an agent is (`<pipeline>.<n>` as elastic agent id or hostname), or null. */
export function instanceOfAgent(agent: GocdAgent, pipelineId: string): string | null {
  const ours = (s: string | null | undefined): s is string =>
    typeof s === 'string' && s.startsWith(`${pipelineId}.`) && /^\d+$/.test(s.slice(pipelineId.length + 1));
  if (ours(agent.elastic_agent_id)) return agent.elastic_agent_id;
  return ours(agent.hostname) ? agent.hostname : null;
}

/** Whether an agent is one of a pipeline's instances. */
export const isAgentOf = (agent: GocdAgent, pipelineId: string): boolean =>
  instanceOfAgent(agent, pipelineId) !== null;

/** The agent of a Galley instance: registered with its id as elastic agent id or hostname. */
export function agentOf(agents: readonly GocdAgent[], instanceId: string): GocdAgent | undefined {
  return agents.find((a) => a.elastic_agent_id === instanceId || a.hostname === instanceId);
}
