import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { listClusters } from '../api/clusters.js';
import { executeByAlias, getDefinitionByAlias } from '../api/definitions.js';
import { ApiError, type FieldErrors } from '../api/http.js';
import type { Definition, EnvVar } from '../api/types.js';
import { EnvEditor } from '../components/EnvEditor.js';
import { Field, fieldAria } from '../components/Field.js';
import { ErrorState, Loading, errorMessage } from '../components/States.js';
import { useLocalStorage } from '../hooks/use-local-storage.js';
import { useResource } from '../hooks/use-resource.js';

/** localStorage key of the owner id last used to run something. */
export const OWNER_STORAGE_KEY = 'galley.owner';

/** Run a task: owner (remembered), cluster, env overrides; then the new run's page. */
export function RunTaskPage() {
  const { alias = '' } = useParams();
  const definition = useResource(`definition:${alias}`, (signal) => getDefinitionByAlias(alias, signal));
  if (definition.loading) return <Loading label="Loading the task…" />;
  if (!definition.data) {
    return (
      <div className="page">
        <ErrorState
          error={definition.error}
          notFoundTitle={`There is no task "${alias}"`}
          onRetry={definition.reload}
        />
      </div>
    );
  }
  return <RunForm definition={definition.data} />;
}

function RunForm({ definition: d }: { definition: Definition }) {
  const navigate = useNavigate();
  const [owner, setOwner] = useLocalStorage(OWNER_STORAGE_KEY);
  const [cluster, setCluster] = useState(d.target_cluster ?? '');
  const [env, setEnv] = useState<EnvVar[]>(() => (d.env ?? []).map((e) => ({ ...e })));
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const clusters = useResource('clusters', (signal) => listClusters(signal));
  const clusterNames = clusters.data?.map((c) => c.name) ?? [];
  const ownerError = errors['run_tags.owner_id'] ?? errors['owner_id'] ?? errors['run_tags'];

  const submit = async () => {
    setErrors({});
    setFailure(null);
    setBusy(true);
    try {
      const run = await executeByAlias(d.alias, {
        run_tags: { owner_id: owner.trim() },
        cluster: cluster || undefined,
        env: env.filter((e) => e.name.trim() !== ''),
        description: description.trim() || undefined,
      });
      navigate(`/runs/${encodeURIComponent(run.run_id)}`);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError) setErrors(err.fields);
      setFailure(errorMessage(err));
    }
  };

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <div className="breadcrumbs">
            <Link to="/tasks">Tasks</Link> /{' '}
            <Link to={`/tasks/${encodeURIComponent(d.alias)}`}>{d.alias}</Link>
          </div>
          <h1>
            Run <span className="mono">{d.alias}</span>
          </h1>
          <div className="subtitle mono">{d.command}</div>
        </div>
      </div>
      <form
        className="card"
        aria-label={`Run ${d.alias}`}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {failure ? (
          <div className="banner banner-error" role="alert" data-testid="form-error">
            <strong>Not started: </strong>
            {failure}
          </div>
        ) : null}
        <div className="form-grid">
          <Field
            id="run-owner"
            label="Owner"
            error={ownerError}
            hint="Who runs it (remembered in this browser)."
          >
            <input
              {...fieldAria('run-owner', ownerError)}
              className="input"
              value={owner}
              autoComplete="username"
              onChange={(e) => setOwner(e.target.value)}
            />
          </Field>
          <Field id="run-cluster" label="Cluster" error={errors['cluster']}>
            <select
              {...fieldAria('run-cluster', errors['cluster'])}
              className="select"
              value={cluster}
              onChange={(e) => setCluster(e.target.value)}
            >
              <option value="">
                {d.target_cluster ? `Task default (${d.target_cluster})` : 'Server default'}
              </option>
              {clusterNames.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </Field>
          <Field
            id="run-description"
            label="Description"
            error={errors['description']}
            hint="Optional note shown with the run."
          >
            <input
              {...fieldAria('run-description', errors['description'])}
              className="input"
              value={description}
              onChange={(e) => setDescription(e.target.value)}
            />
          </Field>
          <div className="span-all">
            <EnvEditor label="Environment overrides" value={env} onChange={setEnv} errors={errors} />
          </div>
        </div>
        <div className="form-actions">
          <Link className="btn" to={`/tasks/${encodeURIComponent(d.alias)}`}>
            Cancel
          </Link>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Starting…' : '▶ Run'}
          </button>
        </div>
      </form>
    </div>
  );
}
