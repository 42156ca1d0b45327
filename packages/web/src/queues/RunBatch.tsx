import { Link } from 'react-router';
import { requestJson } from '../api/http.js';
import type { HistoryPage, Run } from '../api/types.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { useResource } from '../hooks/use-resource.js';

const runLink = (id: string) => `/runs/${encodeURIComponent(id)}`;

/** An array's children (first page, by index), reloaded when the parent changes. */
function ArrayChildren({ run }: { run: Run }) {
  const children = useResource(`children:${run.run_id}:${run.version ?? 0}`, (signal) =>
    requestJson<HistoryPage>('GET', `/api/v1/history/${encodeURIComponent(run.run_id)}/children`, {
      query: { limit: 200 },
      signal,
    }),
  );
  const list = children.data?.history ?? [];
  if (children.loading && list.length === 0) return <div className="muted">Loading the children…</div>;
  return (
    <table className="table" aria-label="Array children">
      <thead>
        <tr>
          <th>Index</th>
          <th>Run</th>
          <th>Status</th>
          <th>Exit</th>
        </tr>
      </thead>
      <tbody>
        {list.map((c) => (
          <tr key={c.run_id}>
            <td className="mono">{c.array_index ?? '—'}</td>
            <td>
              <Link className="mono" to={runLink(c.run_id)}>
                {c.run_id}
              </Link>
            </td>
            <td>
              <StatusBadge run={c} />
            </td>
            <td className="mono">{c.exit_code ?? '—'}</td>
          </tr>
        ))}
        {(children.data?.total ?? 0) > list.length ? (
          <tr>
            <td colSpan={4} className="muted">
              … and {(children.data?.total ?? 0) - list.length} more
            </td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}

/** The runs this one depends on, with how each stands now. */
function Dependencies({ run }: { run: Run }) {
  const deps = run.depends_on ?? [];
  const states = useResource(`deps:${run.run_id}:${run.version ?? 0}`, (signal) =>
    Promise.all(
      deps.map((d) => requestJson<Run>('GET', `/api/v1/history/${encodeURIComponent(d.run_id)}`, { signal })),
    ),
  );
  return (
    <ul className="stack" aria-label="Dependencies">
      {deps.map((d, i) => {
        const dep = states.data?.[i];
        return (
          <li key={d.run_id} className="row">
            <Link className="mono" to={runLink(d.run_id)}>
              {d.run_id}
            </Link>
            <span className="muted">must {d.condition === 'ended' ? 'end' : 'succeed'}</span>
            {dep ? <StatusBadge run={dep} /> : null}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * A run's queue, array and dependencies: the queue it waits in, an array's progress bar and
 * children, an array child's parent, and the runs it waits for with their states.
 */
export function RunBatch({ run }: { run: Run }) {
  const array = run.array ?? null;
  const counts = array?.counts;
  const ended = counts ? counts.succeeded + counts.failed : 0;
  const plain =
    !array && !run.parent_id && !(run.depends_on ?? []).length && (run.queue ?? 'default') === 'default';
  if (plain) return null;
  return (
    <section className="card" aria-labelledby="batch-title" data-testid="run-batch">
      <h2 id="batch-title">{array ? `Array of ${array.size}` : 'Queue and dependencies'}</h2>
      <dl className="kv">
        <dt>Queue</dt>
        <dd className="mono">{run.queue ?? 'default'}</dd>
        {run.parent_id ? (
          <>
            <dt>Array</dt>
            <dd>
              child <span className="mono">{run.array_index}</span> of{' '}
              <Link className="mono" to={runLink(run.parent_id)}>
                {run.parent_id}
              </Link>
            </dd>
          </>
        ) : null}
        {array ? (
          <>
            <dt>Progress</dt>
            <dd>
              <div
                className="progress"
                role="progressbar"
                aria-valuemin={0}
                aria-valuemax={array.size}
                aria-valuenow={ended}
              >
                <span style={{ width: `${array.size ? (100 * ended) / array.size : 0}%` }} />
              </div>
              {counts ? (
                <span className="muted" data-testid="array-counts">
                  {counts.succeeded} succeeded · {counts.failed} failed · {counts.running} running ·{' '}
                  {counts.queued} queued
                </span>
              ) : null}
              {array.parallelism ? (
                <div className="field-hint">At most {array.parallelism} at once.</div>
              ) : null}
            </dd>
          </>
        ) : null}
        {(run.depends_on ?? []).length ? (
          <>
            <dt>Waits for</dt>
            <dd>
              <Dependencies run={run} />
            </dd>
          </>
        ) : null}
      </dl>
      {array ? <ArrayChildren run={run} /> : null}
    </section>
  );
}
