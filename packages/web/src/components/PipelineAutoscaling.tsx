import { useEffect } from 'react';
import type { AutoscalingStatusJson } from '@galley/server/api';
import { ApiError, requestJson } from '../api/http.js';
import { formatDateTime } from '../format/time.js';
import { useResource } from '../hooks/use-resource.js';
import { ErrorState } from './States.js';

/** How often the panel asks again (the autoscaler polls every second at the fastest). */
const REFRESH_MS = 2000;

/**
 * The autoscaling panel of a pipeline page: current and desired instances, the last metric value,
 * and the last decisions with their reasons (GET /api/v1/pipelines/{id}/autoscaling). Shown only
 * for a pipeline that has `autoscaling`.
 */
export function PipelineAutoscaling({ pipelineId }: { pipelineId: string }) {
  const status = useResource<AutoscalingStatusJson>(`autoscaling:${pipelineId}`, (signal) =>
    requestJson<AutoscalingStatusJson>(
      'GET',
      `/api/v1/pipelines/${encodeURIComponent(pipelineId)}/autoscaling`,
      {
        signal,
      },
    ),
  );
  const { reload } = status;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const s = status.data;
  // A server without autoscaling answers 404: nothing to show.
  if (status.error instanceof ApiError && status.error.status === 404) return null;
  if (!s && status.error) return <ErrorState error={status.error} onRetry={reload} />;
  if (!s || !s.enabled) return null;
  const show = (v: number | null) => (v === null ? '—' : String(v));
  return (
    <section className="card card-flush" aria-labelledby="autoscaling-title" data-testid="autoscaling">
      <div className="card-header">
        <h2 id="autoscaling-title">Autoscaling</h2>
        <span className="muted">source {s.source}</span>
      </div>
      <dl className="row" style={{ gap: '2rem', padding: '0 1rem' }}>
        <div>
          <dt className="muted">Instances</dt>
          <dd data-testid="autoscaling-current">
            {s.current} ({s.running} running)
          </dd>
        </div>
        <div>
          <dt className="muted">Desired</dt>
          <dd data-testid="autoscaling-desired">{show(s.desired)}</dd>
        </div>
        <div>
          <dt className="muted">Metric</dt>
          <dd data-testid="autoscaling-metric">{show(s.metric)}</dd>
        </div>
      </dl>
      <div className="table-wrap">
        <table className="table" aria-label="Autoscaling decisions">
          <thead>
            <tr>
              <th>At</th>
              <th>Metric</th>
              <th>Instances</th>
              <th>Why</th>
            </tr>
          </thead>
          <tbody>
            {s.decisions.slice(0, 20).map((d, k) => (
              <tr key={`${d.at}-${k}`}>
                <td>{formatDateTime(d.at)}</td>
                <td className={d.error === null ? '' : 'field-error'}>
                  {d.error === null ? show(d.metric) : 'error'}
                </td>
                <td>
                  {d.current} → {d.desired}
                </td>
                <td>{d.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
