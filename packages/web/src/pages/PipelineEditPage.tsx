import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError } from '../api/http.js';
import { createPipeline, getPipeline, patchPipeline, PIPELINE_TEMPLATE } from '../api/pipelines.js';
import { JsonEditor, jsonProblem } from '../components/JsonEditor.js';
import { PipelinesNotEnabled } from '../components/NotEnabled.js';
import { ErrorState, Loading, errorMessage } from '../components/States.js';
import { useResource } from '../hooks/use-resource.js';
import { editablePipeline } from '../pipelines/health.js';

/**
 * Creates a pipeline (`/pipelines/new`, from Faustian's example) or edits one
 * (`/pipelines/:id/edit`). An edit that changes more than `instances` starts a rolling update.
 */
export function PipelineEditPage() {
  const { pipelineId } = useParams();
  const existing = useResource(`pipeline-edit:${pipelineId ?? ''}`, (signal) =>
    pipelineId ? getPipeline(pipelineId, signal).then(editablePipeline) : Promise.resolve(null),
  );
  if (existing.loading) return <Loading label="Loading the pipeline…" />;
  if (pipelineId && !existing.data) {
    const notFound = existing.error instanceof ApiError && existing.error.isNotFound;
    return (
      <div className="page">
        {notFound ? <PipelinesNotEnabled /> : <ErrorState error={existing.error} onRetry={existing.reload} />}
      </div>
    );
  }
  return <PipelineEditor id={pipelineId} initial={existing.data ?? PIPELINE_TEMPLATE} />;
}

function PipelineEditor({ id, initial }: { id: string | undefined; initial: Record<string, unknown> }) {
  const navigate = useNavigate();
  const [text, setText] = useState(() => JSON.stringify(initial, null, 2));
  const [failure, setFailure] = useState<{ message: string; notEnabled: boolean } | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async () => {
    if (jsonProblem(text)) return;
    const body = JSON.parse(text) as Record<string, unknown>;
    setBusy(true);
    setFailure(null);
    try {
      if (id) await patchPipeline(id, body);
      else await createPipeline(body);
      navigate(`/pipelines/${encodeURIComponent(id ?? String(body['id'] ?? ''))}`);
    } catch (err) {
      setBusy(false);
      const notEnabled = !id && err instanceof ApiError && err.isNotFound;
      setFailure({ message: errorMessage(err), notEnabled });
    }
  };

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <div className="breadcrumbs">
            <Link to="/pipelines">Pipelines</Link>
            {id ? (
              <>
                {' / '}
                <Link to={`/pipelines/${encodeURIComponent(id)}`}>{id}</Link>
              </>
            ) : null}
          </div>
          <h1>{id ? `Edit ${id}` : 'New pipeline'}</h1>
          <div className="subtitle">
            Faustian&apos;s pipeline JSON.{' '}
            {id ? 'Changing anything but instances rolls the change out batch by batch.' : ''}
          </div>
        </div>
      </div>
      {failure?.notEnabled ? (
        <PipelinesNotEnabled />
      ) : (
        <form
          className="card"
          aria-label={id ? `Edit ${id}` : 'New pipeline'}
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          {failure ? (
            <div className="banner banner-error" role="alert" data-testid="form-error">
              <strong>Not saved: </strong>
              {failure.message}
            </div>
          ) : null}
          <JsonEditor label="Pipeline (JSON)" value={text} onChange={setText} rows={26} />
          <div className="form-actions">
            <Link className="btn" to={id ? `/pipelines/${encodeURIComponent(id)}` : '/pipelines'}>
              Cancel
            </Link>
            <button type="submit" className="btn btn-primary" disabled={busy || jsonProblem(text) !== null}>
              {busy ? 'Saving…' : id ? 'Save and roll out' : 'Create pipeline'}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
