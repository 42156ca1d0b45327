import { useEffect } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/http.js';
import { listPipelines } from '../api/pipelines.js';
import { PipelinesNotEnabled } from '../components/NotEnabled.js';
import { EmptyState, ErrorState, Loading } from '../components/States.js';
import { formatWhen } from '../format/time.js';
import { useNow } from '../hooks/use-now.js';
import { useResource } from '../hooks/use-resource.js';
import { pipelineHealth } from '../pipelines/health.js';

/** How often the list re-reads instance health (ms). */
const REFRESH_MS = 3000;

/** Pipelines with the health of their instances. */
export function PipelinesPage() {
  const pipelines = useResource('pipelines', (signal) => listPipelines(signal));
  const notEnabled = pipelines.error instanceof ApiError && pipelines.error.isNotFound;
  const now = useNow(true, REFRESH_MS);
  const { reload } = pipelines;
  useEffect(() => {
    if (notEnabled) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [notEnabled, reload]);

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Pipelines</h1>
          <div className="subtitle">
            Long-running worker groups: N instances of a group of processes, kept running.
          </div>
        </div>
        {notEnabled ? null : (
          <div className="page-actions">
            <Link className="btn btn-primary" to="/pipelines/new">
              + New pipeline
            </Link>
          </div>
        )}
      </div>
      <div className="card card-flush">
        {pipelines.loading ? (
          <Loading label="Loading pipelines…" />
        ) : notEnabled ? (
          <PipelinesNotEnabled />
        ) : pipelines.error && !pipelines.data ? (
          <ErrorState error={pipelines.error} onRetry={reload} />
        ) : (pipelines.data ?? []).length === 0 ? (
          <EmptyState
            title="No pipelines yet"
            icon="≋"
            action={
              <Link className="btn btn-primary" to="/pipelines/new">
                Create a pipeline
              </Link>
            }
          >
            A pipeline keeps a number of worker instances running and replaces the ones that fail.
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" aria-label="Pipelines">
              <thead>
                <tr>
                  <th scope="col">Pipeline</th>
                  <th scope="col">Image</th>
                  <th scope="col">Processes</th>
                  <th scope="col" className="num">
                    Instances
                  </th>
                  <th scope="col">Health</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {(pipelines.data ?? []).map((p) => {
                  const health = pipelineHealth(p);
                  return (
                    <tr key={p.id} data-pipeline-id={p.id}>
                      <td>
                        <Link className="mono" to={`/pipelines/${encodeURIComponent(p.id)}`}>
                          {p.id}
                        </Link>
                      </td>
                      <td className="mono truncate">{p.container?.image ?? '—'}</td>
                      <td>{Object.keys(p.processes ?? {}).join(', ') || '—'}</td>
                      <td className="num">{p.instances}</td>
                      <td>
                        <span
                          className={`badge badge-${health.tone === 'neutral' ? 'plain' : health.tone}`}
                          data-testid="pipeline-health"
                        >
                          {health.label}
                        </span>
                      </td>
                      <td className="nowrap">{formatWhen(p.updated ?? p.created, now)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </div>
  );
}
