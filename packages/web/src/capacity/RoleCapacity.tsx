import { useEffect } from 'react';
import { ApiError, requestJson } from '../api/http.js';
import { ErrorState } from '../components/States.js';
import { formatCpus, formatMemoryMb } from '../format/resources.js';
import { useResource } from '../hooks/use-resource.js';

/**
 * A Mesos cluster's capacity per role (`GET /api/v1/clusters/{name}/capacity`): the provider
 * group, its nodes now and wanted, the demand, the agents, the drain in flight and the last
 * decisions with their reasons. Nothing is shown for a cluster without a capacity config.
 */

interface Res {
  cpus: number;
  mem: number;
}

interface RoleCapacityJson {
  role: string;
  provider: string;
  group: string;
  min: number;
  max: number;
  current_nodes: number | null;
  desired_nodes: number | null;
  needed_nodes: number | null;
  demand: { running: Res; queued: Res & { runs: number } } | null;
  agents: Array<{
    agent_id: string;
    hostname: string;
    instance_id: string | null;
    tasks: number;
    draining: boolean;
  }>;
  draining: Array<{ agent_id: string; hostname: string; phase: string; since: number }>;
  decisions: Array<{ at: number; action: string; current: number; desired: number; reason: string }>;
  error: string | null;
}

/** How often the capacity is re-read (ms). */
const REFRESH_MS = 3000;
/** Decisions listed per role. */
const SHOWN = 5;

const res = (r: Res) => `${formatCpus(Math.round(r.cpus * 100) / 100)} · ${formatMemoryMb(r.mem)}`;
const n = (v: number | null) => (v === null ? '—' : String(v));

async function loadCapacity(cluster: string, signal: AbortSignal): Promise<RoleCapacityJson[] | null> {
  try {
    const answer = await requestJson<{ roles: RoleCapacityJson[] }>(
      'GET',
      `/api/v1/clusters/${encodeURIComponent(cluster)}/capacity`,
      { signal },
    );
    return answer.roles;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 409 || err.status === 404)) return null;
    throw err;
  }
}

function RoleCard({ role }: { role: RoleCapacityJson }) {
  return (
    <div className="stack" data-role={role.role} aria-label={`Role ${role.role}`}>
      <div className="row">
        <strong className="mono">{role.role}</strong>
        <span className="badge badge-plain">
          {role.provider} {role.group}
        </span>
        <span>
          nodes {n(role.current_nodes)} → {n(role.desired_nodes)} (needed {n(role.needed_nodes)}, within [
          {role.min}, {role.max}])
        </span>
      </div>
      {role.demand ? (
        <div className="muted">
          running {res(role.demand.running)} · queued {role.demand.queued.runs} runs,{' '}
          {res(role.demand.queued)}
        </div>
      ) : null}
      <div className="muted">
        {role.agents.length} agents ({role.agents.filter((a) => a.tasks > 0).length} busy)
        {role.draining.map((d) => ` · draining ${d.hostname} (${d.phase})`).join('')}
      </div>
      {role.error ? <div className="muted">{role.error}</div> : null}
      {role.decisions.length > 0 ? (
        <ul className="muted" aria-label={`Last decisions of ${role.role}`}>
          {role.decisions.slice(0, SHOWN).map((d) => (
            <li key={`${d.at}-${d.action}`}>
              <time dateTime={new Date(d.at).toISOString()}>{new Date(d.at).toLocaleTimeString()}</time>{' '}
              <strong>{d.action}</strong> {d.current} → {d.desired}: {d.reason}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** The per-role capacity section of one cluster's card (nothing when it has no capacity config). */
export function ClusterRoleCapacity({ cluster }: { cluster: string }) {
  const capacity = useResource(`capacity:${cluster}`, (signal) => loadCapacity(cluster, signal));
  const { reload } = capacity;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  if (capacity.error && !capacity.data) return <ErrorState error={capacity.error} onRetry={reload} />;
  const roles = capacity.data;
  if (!roles || roles.length === 0) return null;
  return (
    <div className="stack" aria-label={`Capacity per role of ${cluster}`}>
      <h3>Capacity per role</h3>
      {roles.map((r) => (
        <RoleCard key={r.role} role={r} />
      ))}
    </div>
  );
}
