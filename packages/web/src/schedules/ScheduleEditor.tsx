import type { Schedule } from '@galley/server/api';
import { useState } from 'react';
import { ApiError } from '../api/http.js';
import { ErrorState, Loading } from '../components/States.js';
import { formatDateTime } from '../format/time.js';
import { useResource } from '../hooks/use-resource.js';
import { previewFireTimes, schedulesApi } from './schedules-api.js';

const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** A definition's schedules: each with its next runs, pause/resume and delete, and a form to add one. */
export function DefinitionSchedules({ definitionId }: { definitionId: string }) {
  const list = useResource(`schedules:${definitionId}`, (signal) => schedulesApi.of(definitionId, signal));
  return (
    <section className="card" aria-labelledby="schedules-title">
      <div className="card-header">
        <h2 id="schedules-title">Schedules</h2>
      </div>
      {list.error && !list.data ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading label="Loading schedules…" />
      ) : (
        <ScheduleTable schedules={list.data.schedules} onChange={list.reload} />
      )}
      <ScheduleForm definitionId={definitionId} onCreated={list.reload} />
    </section>
  );
}

/** Schedules with their next fire time, state and actions. */
export function ScheduleTable({
  schedules,
  onChange,
  showDefinition = false,
}: {
  schedules: Schedule[];
  onChange: () => void;
  showDefinition?: boolean;
}) {
  if (schedules.length === 0) return <p className="muted">No schedule.</p>;
  const act = (p: Promise<unknown>) => void p.finally(onChange);
  return (
    <table className="table" aria-label="Schedules">
      <thead>
        <tr>
          {showDefinition ? <th>Definition</th> : null}
          <th>Cron</th>
          <th>Time zone</th>
          <th>Concurrency</th>
          <th>Catch-up</th>
          <th>Next runs</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {schedules.map((s) => (
          <tr key={s.schedule_id} data-testid="schedule-row">
            {showDefinition ? <td className="mono">{s.definition_id}</td> : null}
            <td className="mono">{s.cron}</td>
            <td>{s.timezone}</td>
            <td>{s.concurrency}</td>
            <td>{s.catch_up}</td>
            <td>
              {s.paused
                ? 'paused'
                : s.next_runs.slice(0, 3).map((t) => (
                    <div key={t} className="mono">
                      {formatDateTime(t)}
                    </div>
                  ))}
            </td>
            <td className="row">
              <button
                type="button"
                className="btn"
                onClick={() => act(schedulesApi.update(s.schedule_id, { paused: !s.paused }))}
              >
                {s.paused ? 'Resume' : 'Pause'}
              </button>
              <button type="button" className="btn" onClick={() => act(schedulesApi.remove(s.schedule_id))}>
                Delete
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The editor: cron, time zone and policy, with a live preview of the next 5 fire times. */
function ScheduleForm({ definitionId, onCreated }: { definitionId: string; onCreated: () => void }) {
  const [cron, setCron] = useState('0 9 * * 1-5');
  const [timezone, setTimezone] = useState(ZONE);
  const [concurrency, setConcurrency] = useState<'allow' | 'forbid' | 'replace'>('forbid');
  const [catchUp, setCatchUp] = useState(1);
  const [error, setError] = useState<string | null>(null);
  const preview = previewFireTimes(cron, timezone);
  const submit = async () => {
    setError(null);
    try {
      await schedulesApi.create(definitionId, { cron, timezone, concurrency, catch_up: catchUp });
      onCreated();
    } catch (err) {
      setError(err instanceof ApiError ? Object.values(err.fields).join('; ') || err.message : String(err));
    }
  };
  return (
    <form
      className="stack"
      aria-label="New schedule"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div className="row">
        <label>
          Cron <input className="input mono" value={cron} onChange={(e) => setCron(e.target.value)} />
        </label>
        <label>
          Time zone <input className="input" value={timezone} onChange={(e) => setTimezone(e.target.value)} />
        </label>
        <label>
          Concurrency{' '}
          <select
            className="input"
            value={concurrency}
            onChange={(e) => setConcurrency(e.target.value as typeof concurrency)}
          >
            <option value="allow">allow</option>
            <option value="forbid">forbid</option>
            <option value="replace">replace</option>
          </select>
        </label>
        <label>
          Catch-up{' '}
          <input
            className="input"
            type="number"
            min={0}
            max={100}
            value={catchUp}
            onChange={(e) => setCatchUp(Number(e.target.value))}
          />
        </label>
        <button type="submit" className="btn btn-primary" disabled={preview.error !== undefined}>
          Add schedule
        </button>
      </div>
      <div aria-label="Next fire times" data-testid="schedule-preview">
        {preview.error !== undefined ? (
          <span className="muted">{preview.error}</span>
        ) : (
          <>
            <span className="muted">Next runs: </span>
            {preview.times.map((t) => (
              <span key={t.getTime()} className="mono">
                {formatDateTime(t.getTime())}{' '}
              </span>
            ))}
          </>
        )}
      </div>
      {error ? (
        <div className="banner banner-danger" role="alert">
          {error}
        </div>
      ) : null}
    </form>
  );
}
