import type { QueueList } from '@galley/server/api';
import { requestJson } from '../api/http.js';
import { ErrorState, Loading } from '../components/States.js';
import { useResource } from '../hooks/use-resource.js';

const limit = (n: number | null | undefined, unit = '') => (n == null ? '—' : `${n}${unit}`);

/**
 * The queues: priority (higher first), per-owner and per-group limits, and what waits and runs in
 * each. Queues are changed by an admin through `PUT /api/v1/queues/{name}`.
 */
export function QueuesPage() {
  const queues = useResource('queues', (signal) =>
    requestJson<QueueList>('GET', '/api/v1/queues', { signal }),
  );
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Queues</h1>
          <div className="subtitle">
            Higher priority first; within a priority, owners take turns by dominant resource fairness.
          </div>
        </div>
      </div>
      {queues.error && !queues.data ? (
        <ErrorState error={queues.error} onRetry={queues.reload} />
      ) : !queues.data ? (
        <Loading />
      ) : (
        <section className="card">
          <table className="table" aria-label="Queues">
            <thead>
              <tr>
                <th>Name</th>
                <th>Priority</th>
                <th>Queued</th>
                <th>Running</th>
                <th>Per owner</th>
                <th>Per group</th>
                <th>Owner CPU</th>
                <th>Owner memory</th>
              </tr>
            </thead>
            <tbody>
              {queues.data.queues.map((q) => (
                <tr key={q.name}>
                  <td className="mono">{q.name}</td>
                  <td>{q.priority}</td>
                  <td>{q.queued}</td>
                  <td>{q.running}</td>
                  <td>{limit(q.owner_concurrency)}</td>
                  <td>{limit(q.group_concurrency)}</td>
                  <td>{limit(q.owner_cpu, 'm')}</td>
                  <td>{limit(q.owner_memory, ' MB')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
