import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { getRun, getRunTimeline, type StopAnswer } from '../api/runs.js';
import type { Run } from '../api/types.js';
import { useRunStream, useRunStreamState } from '../app/run-stream-context.js';
import { LogViewer } from '../components/LogViewer.js';
import { AttemptsTable, EnvTable, RunDetails, RunEventsTable } from '../components/RunDetails.js';
import { shortId } from '../components/RunsTable.js';
import { ErrorState, Loading } from '../components/States.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { StatusTimeline } from '../components/StatusTimeline.js';
import { RunBatch } from '../queues/RunBatch.js';
import { RunRetries } from '../schedules/RunRetries.js';
import { StopRunButton } from '../components/StopRunButton.js';
import { useLogTail } from '../log/use-log-tail.js';
import { useNow } from '../hooks/use-now.js';
import { useResource } from '../hooks/use-resource.js';
import { isActive, isOlderRun, newerRun } from '../runs/status.js';

/** A live run is re-read this often (ms) while the event stream is down… */
const FALLBACK_POLL_MS = 2000;
/** …and, to heal any missed event, this often while it is up. */
const SAFETY_POLL_MS = 5000;

/**
 * Keeps the run and its timeline current: from the event stream, and by re-reading while the run
 * is active (a load never replaces a newer version that the stream delivered meanwhile).
 */
function useLiveRun(runId: string) {
  const run = useResource(`run:${runId}`, (signal) => getRun(runId, signal), newerRun);
  const events = useResource(`events:${runId}`, (signal) => getRunTimeline(runId, signal));
  const streamState = useRunStreamState();
  const active = run.data ? isActive(run.data.status) : false;
  const { setData: setRun, reload: reloadRun } = run;
  const { reload: reloadEvents } = events;
  const lastStatus = useRef<string | undefined>(undefined);

  useRunStream({
    onRun: (changed: Run) => {
      if (changed.run_id !== runId) return;
      setRun((previous) =>
        isOlderRun(changed, previous) ? (previous as Run) : { ...(previous ?? {}), ...changed },
      );
      reloadEvents();
    },
    onReconnect: () => {
      reloadRun();
      reloadEvents();
    },
  });

  // Level-triggered: re-read while active, often when the stream is down, now and then when up.
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(reloadRun, streamState === 'open' ? SAFETY_POLL_MS : FALLBACK_POLL_MS);
    return () => clearInterval(timer);
  }, [active, streamState, reloadRun]);

  // A status change seen by polling also refreshes the timeline.
  useEffect(() => {
    const status = run.data?.status;
    if (lastStatus.current !== undefined && status !== lastStatus.current) reloadEvents();
    lastStatus.current = status;
  }, [run.data?.status, reloadEvents]);

  return { run, events };
}

/** One run: timeline, where it ran, exit, the reason it waits, its live log, and a stop button. */
export function RunPage() {
  const { runId = '' } = useParams();
  const { run, events } = useLiveRun(runId);
  const [answer, setAnswer] = useState<StopAnswer | null>(null);
  const data = run.data;
  const active = data ? isActive(data.status) : false;
  const now = useNow(active);
  const tail = useLogTail(runId, data ? !active : false);

  useEffect(() => setAnswer(null), [runId]);

  if (run.loading) return <Loading label="Loading the run…" />;
  if (!data) {
    return (
      <div className="page">
        <ErrorState error={run.error} notFoundTitle={`There is no run ${runId}`} onRetry={run.reload} />
        <div style={{ textAlign: 'center' }}>
          <Link to="/runs">Back to all runs</Link>
        </div>
      </div>
    );
  }

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <div className="breadcrumbs">
            <Link to="/runs">Runs</Link> / <span className="mono">{shortId(data.run_id)}</span>
          </div>
          <h1 className="row">
            {data.alias} <StatusBadge run={data} />
          </h1>
          <div className="subtitle mono" title="Run id">
            {data.run_id}
          </div>
        </div>
        <div className="page-actions">
          <Link className="btn" to={`/tasks/${encodeURIComponent(data.alias)}/run`}>
            ↻ Run again
          </Link>
          <StopRunButton
            run={data}
            onAnswer={(a) => {
              setAnswer(a);
              run.reload();
              events.reload();
            }}
          />
        </div>
      </div>

      {answer ? (
        <div
          className={`banner ${answer.accepted ? 'banner-info' : 'banner-warning'}`}
          role="status"
          data-testid="stop-answer"
        >
          <strong>{answer.stopped ? 'Stopped: ' : answer.accepted ? 'Stopping: ' : 'Not stopped: '}</strong>
          {answer.message}
        </div>
      ) : null}
      {run.error ? (
        <div className="banner banner-warning" role="status">
          Could not refresh the run; what you see may be out of date.
        </div>
      ) : null}
      {data.status === 'QUEUED' ? (
        <div className="banner banner-warning" role="status" data-testid="queued-reason">
          <strong>Waiting to be placed: </strong>
          {data.queued_reason ?? 'it is next in line for capacity.'}
        </div>
      ) : null}

      <RunBatch run={data} />

      <section className="card" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Status</h2>
        <StatusTimeline run={data} events={events.data?.events ?? []} now={now} />
        {data.status === 'STOPPED' ? (
          <div className="row" data-testid="run-outcome">
            <span>
              Exit code <strong className="mono">{data.exit_code ?? '—'}</strong>
            </span>
            {data.exit_reason ? <span className="muted">· {data.exit_reason}</span> : null}
          </div>
        ) : null}
      </section>

      <RunRetries run={data} events={events.data?.events ?? []} />

      <LogViewer runId={runId} tail={tail} live={active} />

      <div className="grid-2">
        <section className="card" aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <RunDetails run={data} now={now} />
        </section>
        <div className="stack">
          <section className="card" aria-labelledby="events-title">
            <h2 id="events-title">Events</h2>
            {events.error && !events.data ? (
              <ErrorState error={events.error} onRetry={events.reload} />
            ) : (
              <>
                <RunEventsTable events={events.data?.events ?? []} />
                <AttemptsTable attempts={events.data?.attempts ?? []} />
              </>
            )}
          </section>
          <section className="card" aria-labelledby="env-title">
            <h2 id="env-title">Environment</h2>
            <EnvTable env={data.env ?? []} />
          </section>
        </div>
      </div>
    </div>
  );
}
