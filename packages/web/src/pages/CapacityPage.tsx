import { useEffect } from 'react';
import { listClusters } from '../api/clusters.js';
import { AgentSupport } from '../capacity/AgentSupport.js';
import { ClusterRoleCapacity } from '../capacity/RoleCapacity.js';
import type { Cluster, Resources } from '../api/types.js';
import { RunsTable } from '../components/RunsTable.js';
import { EmptyState, ErrorState, Loading } from '../components/States.js';
import { formatCpus, formatMemoryMb } from '../format/resources.js';
import { useLiveHistory } from '../hooks/use-live-history.js';
import { useNow } from '../hooks/use-now.js';
import { useResource } from '../hooks/use-resource.js';

/** How often cluster capacity is re-read (ms); queued runs follow the event stream. */
const REFRESH_MS = 3000;

function Meter({
  label,
  used,
  total,
  format,
}: {
  label: string;
  used: number;
  total: number;
  format: (n: number) => string;
}) {
  const pct = total > 0 ? Math.min(100, Math.round((100 * used) / total)) : 0;
  const level = pct >= 100 ? 'full' : pct >= 80 ? 'high' : 'ok';
  return (
    <div className="resource-row">
      <strong>{label}</strong>
      <div
        className="meter"
        data-level={level}
        role="meter"
        aria-label={`${label} used`}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={used}
        aria-valuetext={`${format(used)} of ${format(total)} used`}
      >
        <span style={{ width: `${pct}%` }} />
      </div>
      <div className="resource-figures">
        {format(used)} used · {format(Math.max(0, total - used))} free · {format(total)} total
      </div>
    </div>
  );
}

function ResourceMeters({ total, used, free }: { total?: Resources; used?: Resources; free?: Resources }) {
  if (!total) {
    return <div className="muted">This cluster does not report its resources.</div>;
  }
  const usedR =
    used ??
    (free ? { cpu: total.cpu - free.cpu, memory: total.memory - free.memory } : { cpu: 0, memory: 0 });
  return (
    <div className="stack">
      <Meter
        label="CPU"
        used={usedR.cpu}
        total={total.cpu}
        format={(n) => formatCpus(Math.round(n * 100) / 100)}
      />
      <Meter label="Memory" used={usedR.memory} total={total.memory} format={formatMemoryMb} />
    </div>
  );
}

function ClusterCard({ cluster, queued }: { cluster: Cluster; queued: number }) {
  return (
    <section className="card" aria-label={`Cluster ${cluster.name}`} data-cluster={cluster.name}>
      <div className="card-header">
        <h2 className="mono">{cluster.name}</h2>
        <div className="row">
          {cluster.isDefault ? <span className="badge badge-plain">default</span> : null}
          {cluster.backend ? <span className="badge badge-plain">{cluster.backend} backend</span> : null}
          {cluster.state ? (
            <span className={`badge ${cluster.state === 'ready' ? 'badge-success' : 'badge-warning'}`}>
              {cluster.state}
            </span>
          ) : null}
        </div>
      </div>
      <ResourceMeters total={cluster.total} used={cluster.used} free={cluster.free} />
      <div className="row muted">
        <span>{cluster.running ?? '—'} running</span>·<span>{cluster.queued ?? queued} queued</span>
      </div>
      {cluster.note ? <div className="muted">{cluster.note}</div> : null}
      <AgentSupport agents={cluster.agents} />
      {cluster.backend === 'mesos' ? <ClusterRoleCapacity cluster={cluster.name} /> : null}
    </section>
  );
}

/** Each cluster's resources (total, used, free) and the runs waiting for them, with why. */
export function CapacityPage() {
  const clusters = useResource('clusters', (signal) => listClusters(signal));
  const queued = useLiveHistory({
    statuses: ['QUEUED'],
    sortBy: 'queued_at',
    order: 'asc',
    limit: 100,
    offset: 0,
  });
  const now = useNow(true);
  const { reload } = clusters;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const waiting = queued.data?.history ?? [];

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Capacity</h1>
          <div className="subtitle">
            What each cluster can run, what it runs now, and what waits for room.
          </div>
        </div>
      </div>
      {clusters.loading ? (
        <Loading label="Loading clusters…" />
      ) : clusters.error && !clusters.data ? (
        <ErrorState error={clusters.error} onRetry={reload} />
      ) : (clusters.data ?? []).length === 0 ? (
        <EmptyState title="No clusters configured" icon="▦" />
      ) : (
        <div className="capacity-grid">
          {(clusters.data ?? []).map((c) => (
            <ClusterCard
              key={c.name}
              cluster={c}
              queued={waiting.filter((r) => r.cluster === c.name).length}
            />
          ))}
        </div>
      )}
      <section className="card card-flush" aria-labelledby="queued-title">
        <div className="card-header">
          <h2 id="queued-title">Queued runs{queued.data ? ` (${queued.data.total})` : ''}</h2>
        </div>
        {queued.loading ? (
          <Loading label="Loading queued runs…" />
        ) : queued.error && !queued.data ? (
          <ErrorState error={queued.error} onRetry={queued.reload} />
        ) : waiting.length === 0 ? (
          <EmptyState title="Nothing is waiting" icon="✓">
            Every run has been placed.
          </EmptyState>
        ) : (
          <RunsTable runs={waiting} now={now} label="Queued runs" changed={queued.changed} showQueuedReason />
        )}
      </section>
    </div>
  );
}
