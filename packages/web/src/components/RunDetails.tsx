import { Link } from 'react-router';
import type { Run, RunAttempt, RunEvent } from '../api/types.js';
import { formatMemoryMb, formatMillicores } from '../format/resources.js';
import { elapsed, formatDateTime, formatDuration } from '../format/time.js';
import { runOwner } from '../runs/status.js';

/**
 * What a run is and where it ran: task, owner, cluster, instance, image (run in a container or not),
 * command, limits, what it used (peak memory and CPU), exit and exceptions (an out-of-memory kill).
 */
export function RunDetails({ run, now }: { run: Run; now: number }) {
  const total = elapsed(run.queued_at, run.finished_at, now);
  const ran = elapsed(run.started_at, run.finished_at, now);
  return (
    <dl className="kv" aria-label="Run details">
      <dt>Task</dt>
      <dd>
        <Link to={`/tasks/${encodeURIComponent(run.alias)}`}>{run.alias}</Link>
        {run.group_name ? <span className="muted"> · {run.group_name}</span> : null}
      </dd>
      <dt>Owner</dt>
      <dd>{runOwner(run) ?? '—'}</dd>
      <dt>Cluster</dt>
      <dd>
        {run.cluster ?? '—'}
        {run.engine ? <span className="muted"> ({run.engine} backend)</span> : null}
      </dd>
      <dt>Ran on</dt>
      <dd data-testid="run-instance">
        {run.instance && (run.instance.dns_name || run.instance.instance_id) ? (
          <>
            <span className="mono">{run.instance.dns_name || run.instance.instance_id}</span>
            {run.instance.dns_name &&
            run.instance.instance_id &&
            run.instance.instance_id !== run.instance.dns_name ? (
              <span className="muted mono"> · {run.instance.instance_id}</span>
            ) : null}
          </>
        ) : (
          <span className="muted">not placed yet</span>
        )}
        {run.runs_on_host ? (
          <div className="field-hint">The local backend runs the command on this host, not in the image.</div>
        ) : null}
      </dd>
      <dt>Exit code</dt>
      <dd className="mono" data-testid="exit-code">
        {run.exit_code ?? '—'}
      </dd>
      <dt>Exit reason</dt>
      <dd data-testid="exit-reason">{run.exit_reason ?? '—'}</dd>
      <dt>Image</dt>
      <dd data-testid="run-image">
        <span className="mono">{run.image || '—'}</span>
        {run.runs_on_host === false ? <span className="muted"> · run in a container</span> : null}
        {run.runs_on_host ? <span className="muted"> · not used: ran on the host</span> : null}
      </dd>
      <dt>Command</dt>
      <dd>
        <pre className="code-block">{run.command ?? ''}</pre>
      </dd>
      <dt>Limits</dt>
      <dd data-testid="run-limits">
        {formatMillicores(run.cpu)} · {formatMemoryMb(run.memory)}
        {run.gpu ? ` · ${run.gpu} GPU` : ''}
        {run.runs_on_host ? (
          <span className="muted"> (on the host: /clusters says whether the limits hold)</span>
        ) : null}
      </dd>
      <dt>Used</dt>
      <dd data-testid="run-usage">
        {run.max_memory_used == null && run.max_cpu_used == null ? (
          <span className="muted">{run.status === 'STOPPED' ? 'not measured' : 'measured when it ends'}</span>
        ) : (
          <>
            peak {formatMemoryMb(run.max_memory_used)} memory · peak {formatMillicores(run.max_cpu_used)}
          </>
        )}
      </dd>
      <dt>Attempts</dt>
      <dd>{run.attempt_count ?? '—'}</dd>
      <dt>Queued</dt>
      <dd>{formatDateTime(run.queued_at)}</dd>
      <dt>Started</dt>
      <dd>{formatDateTime(run.started_at)}</dd>
      <dt>Finished</dt>
      <dd>{formatDateTime(run.finished_at)}</dd>
      <dt>Duration</dt>
      <dd>
        {ran === null ? '—' : formatDuration(ran)}
        {total !== null ? <span className="muted"> ({formatDuration(total)} since queued)</span> : null}
      </dd>
      {run.description ? (
        <>
          <dt>Description</dt>
          <dd>{run.description}</dd>
        </>
      ) : null}
      {run.run_exceptions?.length ? (
        <>
          <dt>Exceptions</dt>
          <dd data-testid="run-exceptions">
            {run.run_exceptions.map((e, i) => (
              <div key={i} className={/out of memory/i.test(e) ? 'mono field-error' : 'mono'}>
                {e}
              </div>
            ))}
          </dd>
        </>
      ) : null}
    </dl>
  );
}

/** The run's environment as a table. */
export function EnvTable({ env }: { env: { name: string; value: string }[] }) {
  if (env.length === 0) return <div className="muted">No variables.</div>;
  return (
    <table className="table env-table" aria-label="Environment">
      <tbody>
        {env.map((e, i) => (
          <tr key={`${e.name}-${i}`}>
            <td>{e.name}</td>
            <td>{e.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Every timeline entry of the run: time, status, event and reason (retries included). */
export function RunEventsTable({ events }: { events: RunEvent[] }) {
  if (events.length === 0) return <div className="muted">No events recorded.</div>;
  return (
    <table className="table" aria-label="Run events">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Status</th>
          <th scope="col">Event</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e, i) => (
          <tr key={i}>
            <td className="nowrap">{formatDateTime(e.at)}</td>
            <td className="mono">{e.status}</td>
            <td>{e.type}</td>
            <td>{e.reason ?? <span className="muted">—</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Each launch of the run with how it ended; nothing when it was never launched. */
export function AttemptsTable({ attempts }: { attempts: RunAttempt[] }) {
  if (attempts.length === 0) return null;
  return (
    <table className="table" aria-label="Attempts">
      <thead>
        <tr>
          <th scope="col">Attempt</th>
          <th scope="col">State</th>
          <th scope="col">Launched</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((a) => (
          <tr key={a.attempt_id}>
            <td className="mono" title={a.attempt_id}>
              #{a.seq}
            </td>
            <td>{a.state}</td>
            <td className="nowrap">{formatDateTime(a.launched_at ?? a.created_at)}</td>
            <td>{a.outcome ?? <span className="muted">—</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
