import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { deleteDefinition, getDefinitionByAlias } from '../api/definitions.js';
import type { Definition } from '../api/types.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { JsonEditor } from '../components/JsonEditor.js';
import { EnvTable } from '../components/RunDetails.js';
import { RunsTable } from '../components/RunsTable.js';
import { EmptyState, ErrorState, Loading } from '../components/States.js';
import { Tabs, tabPanelProps } from '../components/Tabs.js';
import { formatMemoryMb, formatMillicores } from '../format/resources.js';
import { formatDateTime } from '../format/time.js';
import { useLiveHistory } from '../hooks/use-live-history.js';
import { useNow } from '../hooks/use-now.js';
import { useResource } from '../hooks/use-resource.js';
import { isActive } from '../runs/status.js';
import { DefinitionSchedules } from '../schedules/ScheduleEditor.js';

/** One task: what it runs, its recent runs (live), and run / edit / delete. */
export function TaskPage() {
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
        <div style={{ textAlign: 'center' }}>
          <Link to="/tasks">Back to all tasks</Link>
        </div>
      </div>
    );
  }
  return <TaskView definition={definition.data} />;
}

function TaskView({ definition: d }: { definition: Definition }) {
  const navigate = useNavigate();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [view, setView] = useState<'details' | 'json'>('details');
  const recent = useLiveHistory({ alias: d.alias, sortBy: 'queued_at', order: 'desc', limit: 10, offset: 0 });
  const runs = recent.data?.history ?? [];
  const now = useNow(runs.some((r) => isActive(r.status)));

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <div className="breadcrumbs">
            <Link to="/tasks">Tasks</Link> / {d.alias}
          </div>
          <h1 className="mono">{d.alias}</h1>
          <div className="subtitle">
            {d.group_name ? `Group ${d.group_name} · ` : ''}
            <span className="mono">{d.definition_id}</span>
          </div>
        </div>
        <div className="page-actions">
          <Link className="btn btn-primary" to={`/tasks/${encodeURIComponent(d.alias)}/run`}>
            ▶ Run
          </Link>
          <Link className="btn" to={`/tasks/${encodeURIComponent(d.alias)}/edit`}>
            Edit
          </Link>
          <button type="button" className="btn" onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        </div>
      </div>

      <section className="card">
        <Tabs
          label="Show task as"
          value={view}
          onChange={setView}
          tabs={[
            { id: 'details', label: 'Details' },
            { id: 'json', label: 'JSON' },
          ]}
        />
        {view === 'details' ? (
          <div {...tabPanelProps('details')} className="grid-2">
            <dl className="kv">
              <dt>Image</dt>
              <dd className="mono">{d.image || '—'}</dd>
              <dt>Command</dt>
              <dd>
                <pre className="code-block">{d.command}</pre>
              </dd>
              <dt>CPU</dt>
              <dd>{formatMillicores(d.cpu)}</dd>
              <dt>Memory</dt>
              <dd>{formatMemoryMb(d.memory)}</dd>
              {d.gpu ? (
                <>
                  <dt>GPUs</dt>
                  <dd>{d.gpu}</dd>
                </>
              ) : null}
              <dt>Ports</dt>
              <dd>{d.ports?.length ? d.ports.join(', ') : '—'}</dd>
              <dt>Tags</dt>
              <dd>
                {d.tags?.length
                  ? d.tags.map((t) => (
                      <span key={t} className="tag">
                        {t}
                      </span>
                    ))
                  : '—'}
              </dd>
              <dt>Target cluster</dt>
              <dd>{d.target_cluster || 'server default'}</dd>
              <dt>Updated</dt>
              <dd>{formatDateTime(d.updated_at ?? d.created_at)}</dd>
            </dl>
            <div className="stack">
              <h3>Environment</h3>
              <EnvTable env={d.env ?? []} />
            </div>
          </div>
        ) : (
          <div {...tabPanelProps('json')}>
            <JsonEditor
              label="As the API returns it"
              value={JSON.stringify(d, null, 2)}
              onChange={() => undefined}
              readOnly
            />
          </div>
        )}
      </section>

      <DefinitionSchedules definitionId={d.definition_id} />

      <section className="card card-flush" aria-labelledby="recent-title">
        <div className="card-header">
          <h2 id="recent-title">Recent runs</h2>
          <Link to={`/runs?alias=${encodeURIComponent(d.alias)}`}>All runs of this task →</Link>
        </div>
        {recent.loading ? (
          <Loading label="Loading runs…" />
        ) : recent.error && !recent.data ? (
          <ErrorState error={recent.error} onRetry={recent.reload} />
        ) : runs.length === 0 ? (
          <EmptyState title="Not run yet" icon="▶">
            Runs of {d.alias} will show here.
          </EmptyState>
        ) : (
          <RunsTable runs={runs} now={now} label={`Recent runs of ${d.alias}`} changed={recent.changed} />
        )}
      </section>

      <ConfirmDialog
        open={confirmDelete}
        title={`Delete ${d.alias}?`}
        confirmLabel="Delete task"
        busyLabel="Deleting…"
        danger
        onClose={() => setConfirmDelete(false)}
        onConfirm={async () => {
          await deleteDefinition(d.definition_id);
          navigate('/tasks', { replace: true });
        }}
      >
        <p>
          The definition goes away; its past runs and their logs stay in the history. This cannot be undone.
        </p>
      </ConfirmDialog>
    </div>
  );
}
