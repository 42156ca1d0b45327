import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError } from '../api/http.js';
import { deletePipeline, getPipeline, patchPipeline } from '../api/pipelines.js';
import type { Pipeline } from '../api/types.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { PipelinesNotEnabled } from '../components/NotEnabled.js';
import { InstancesTable, ProcessesTable } from '../components/PipelineInstances.js';
import { PipelineLogs } from '../components/PipelineLogs.js';
import { PipelineAutoscaling } from '../components/PipelineAutoscaling.js';
import { ErrorState, Loading, errorMessage } from '../components/States.js';
import { formatDateTime } from '../format/time.js';
import { useNow } from '../hooks/use-now.js';
import { useResource } from '../hooks/use-resource.js';
import { pipelineHealth } from '../pipelines/health.js';

/** How often the page re-reads the pipeline's instances (ms). */
const REFRESH_MS = 2000;

/** One pipeline: health, rolling-update progress, scale, processes, instances, edit and delete. */
export function PipelinePage() {
  const { pipelineId = '' } = useParams();
  const pipeline = useResource(`pipeline:${pipelineId}`, (signal) => getPipeline(pipelineId, signal));
  const { reload } = pipeline;
  const missing = pipeline.error instanceof ApiError && pipeline.error.isNotFound;
  useEffect(() => {
    if (missing) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [missing, reload]);

  if (pipeline.loading) return <Loading label="Loading the pipeline…" />;
  if (!pipeline.data) {
    return (
      <div className="page">
        {missing ? (
          <MissingPipeline id={pipelineId} />
        ) : (
          <ErrorState error={pipeline.error} onRetry={reload} />
        )}
      </div>
    );
  }
  return <PipelineView pipeline={pipeline.data} reload={reload} />;
}

/** A 404: either this pipeline does not exist, or the server has no pipelines API at all. */
function MissingPipeline({ id }: { id: string }) {
  const list = useResource('pipelines-probe', (signal) =>
    fetch('/api/v1/pipelines', { signal }).then((r) => r.status),
  );
  if (list.loading) return <Loading />;
  if (list.data === 404) return <PipelinesNotEnabled />;
  return (
    <ErrorState
      error={new ApiError(404, 'NOT_FOUND', `No pipeline "${id}".`)}
      notFoundTitle={`There is no pipeline "${id}"`}
    />
  );
}

/**
 * Why the pipeline is `failed` (its stored spec cannot be served: nothing of it runs) or `failing`
 * (an instance cannot be launched, or crash-loops), in the server's words.
 */
function StatusReason({ pipeline }: { pipeline: Pipeline }) {
  const status = pipeline.status;
  const reason = typeof pipeline['status_reason'] === 'string' ? pipeline['status_reason'] : null;
  if ((status !== 'failed' && status !== 'failing') || !reason) return null;
  return (
    <section
      className={`banner ${status === 'failed' ? 'banner-error' : 'banner-warning'}`}
      aria-label="Pipeline status"
      data-testid="pipeline-status-reason"
    >
      <strong>{status === 'failed' ? 'Failed' : 'Failing'}</strong>: {reason}
    </section>
  );
}

function UpdateProgress({ pipeline }: { pipeline: Pipeline }) {
  const update = pipeline.update;
  const phase = update?.phase ?? update?.state;
  if (!update || !phase) return null;
  const total = update.total ?? pipeline.instances;
  const done = Math.min(total, update.available_new ?? update.updated ?? 0);
  const pct = total > 0 ? Math.round((100 * done) / total) : 0;
  const moving = phase === 'rolling' || phase === 'rolling-back';
  const tone =
    phase === 'succeeded'
      ? 'banner-success'
      : moving && !update.stalled_at
        ? 'banner-info'
        : 'banner-warning';
  const words: Record<string, string> = {
    rolling: 'rolling out',
    'rolling-back': 'rolling back',
    succeeded: 'done',
    'rolled-back': 'rolled back',
  };
  const versions =
    update.from_version !== undefined && update.to_version !== undefined
      ? ` (version ${update.from_version} → ${update.to_version})`
      : '';
  return (
    <section className={`banner ${tone}`} aria-label="Rolling update" data-testid="rolling-update">
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <strong>
          Update {words[phase] ?? phase}
          {versions}
          {update.stalled_at ? ' · stalled' : ''}
        </strong>
        <span>
          {done} of {total} new instances available
          {update.batches !== undefined
            ? ` · ${update.batches} batch${update.batches === 1 ? '' : 'es'}`
            : ''}
        </span>
      </div>
      <div
        className="progress"
        role="progressbar"
        aria-valuenow={pct}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-label="Update progress"
      >
        <span style={{ width: `${pct}%` }} />
      </div>
      {update.reason || update.message ? <div>{update.reason ?? update.message}</div> : null}
    </section>
  );
}

function ScaleForm({ pipeline, reload }: { pipeline: Pipeline; reload: () => void }) {
  const [value, setValue] = useState(String(pipeline.instances));
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const n = Number(value);
  const valid = value.trim() !== '' && Number.isInteger(n) && n >= 0;
  const scale = async () => {
    setBusy(true);
    setMessage(null);
    try {
      await patchPipeline(pipeline.id, { instances: n });
      setMessage({ ok: true, text: `Scaling to ${n} instance${n === 1 ? '' : 's'}.` });
      reload();
    } catch (err) {
      setMessage({ ok: false, text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="row"
      aria-label="Scale"
      onSubmit={(e) => {
        e.preventDefault();
        if (!valid) return;
        // scale() shows its own failure beside the form; nothing is left to handle here.
        void scale();
      }}
    >
      <label htmlFor="scale-instances">Instances</label>
      <input
        id="scale-instances"
        className="input"
        type="number"
        min={0}
        step={1}
        style={{ width: '6rem' }}
        value={value}
        aria-invalid={valid ? undefined : true}
        onChange={(e) => setValue(e.target.value)}
      />
      <button type="submit" className="btn btn-primary" disabled={!valid || busy || n === pipeline.instances}>
        {busy ? 'Scaling…' : 'Scale'}
      </button>
      {message ? (
        <span role="status" className={message.ok ? 'muted' : 'field-error'}>
          {message.text}
        </span>
      ) : null}
    </form>
  );
}

function PipelineView({ pipeline: p, reload }: { pipeline: Pipeline; reload: () => void }) {
  const navigate = useNavigate();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const now = useNow(true, REFRESH_MS);
  const health = pipelineHealth(p);
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <div className="breadcrumbs">
            <Link to="/pipelines">Pipelines</Link> / {p.id}
          </div>
          <h1 className="row">
            <span className="mono">{p.id}</span>
            <span
              className={`badge badge-${health.tone === 'neutral' ? 'plain' : health.tone}`}
              data-testid="pipeline-health"
            >
              {health.label}
            </span>
          </h1>
          <div className="subtitle">
            <span className="mono">{p.container?.image ?? '—'}</span> · network{' '}
            {p.container?.network ?? 'HOST'} · created {formatDateTime(p.created)}
          </div>
        </div>
        <div className="page-actions">
          <Link className="btn" to={`/pipelines/${encodeURIComponent(p.id)}/edit`}>
            Edit
          </Link>
          <button type="button" className="btn" onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        </div>
      </div>

      <StatusReason pipeline={p} />
      <UpdateProgress pipeline={p} />

      <section className="card" aria-labelledby="scale-title">
        <h2 id="scale-title">Scale</h2>
        <ScaleForm pipeline={p} reload={reload} />
        <div className="muted">
          Changing only the count adds or removes instances (youngest first); nothing else restarts.
        </div>
      </section>

      <PipelineAutoscaling pipelineId={p.id} />

      <section className="card card-flush" aria-labelledby="instances-title">
        <div className="card-header">
          <h2 id="instances-title">Instances</h2>
        </div>
        <InstancesTable pipeline={p} now={now} />
      </section>

      <section className="card card-flush" aria-labelledby="processes-title">
        <div className="card-header">
          <h2 id="processes-title">Processes</h2>
        </div>
        <ProcessesTable pipeline={p} />
      </section>

      <PipelineLogs pipeline={p} />

      <ConfirmDialog
        open={confirmDelete}
        title={`Delete pipeline ${p.id}?`}
        confirmLabel="Delete pipeline"
        busyLabel="Deleting…"
        danger
        onClose={() => setConfirmDelete(false)}
        onConfirm={async () => {
          await deletePipeline(p.id);
          navigate('/pipelines', { replace: true });
        }}
      >
        <p>Every instance is stopped (each process gets its kill grace period). This cannot be undone.</p>
      </ConfirmDialog>
    </div>
  );
}
