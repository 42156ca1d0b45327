import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { listClusters } from '../api/clusters.js';
import { createDefinition, getDefinitionByAlias, updateDefinition } from '../api/definitions.js';
import { ApiError, type FieldErrors } from '../api/http.js';
import type { Definition } from '../api/types.js';
import { EnvEditor } from '../components/EnvEditor.js';
import { Field, fieldAria } from '../components/Field.js';
import { JsonEditor } from '../components/JsonEditor.js';
import { ErrorState, Loading, errorMessage } from '../components/States.js';
import { Tabs, tabPanelProps } from '../components/Tabs.js';
import { useResource } from '../hooks/use-resource.js';
import {
  formFromDefinition,
  formFromJson,
  inputFromForm,
  NEW_DEFINITION_FORM,
  type DefinitionForm,
} from '../tasks/definition-form.js';

type View = 'form' | 'json';

const FORM_FIELDS = new Set([
  'alias',
  'group_name',
  'image',
  'command',
  'cpu',
  'memory',
  'gpu',
  'tags',
  'ports',
  'target_cluster',
]);

/** The banner's words: the server's message, unless every problem is already shown at its field. */
function summarize(err: ApiError): string {
  const keys = Object.keys(err.fields);
  const allShown = keys.length > 0 && keys.every((k) => FORM_FIELDS.has(k) || k.startsWith('env'));
  if (!allShown) return err.message;
  return keys.length === 1 ? 'fix the field marked below.' : `fix the ${keys.length} fields marked below.`;
}

/** Creates a task (`/tasks/new`) or edits one (`/tasks/:alias/edit`). */
export function TaskEditPage() {
  const { alias } = useParams();
  const existing = useResource(`definition:${alias ?? ''}`, (signal) =>
    alias ? getDefinitionByAlias(alias, signal) : Promise.resolve(null),
  );
  if (existing.loading) return <Loading label="Loading the task…" />;
  if (alias && !existing.data) {
    return (
      <div className="page">
        <ErrorState
          error={existing.error}
          notFoundTitle={`There is no task "${alias}"`}
          onRetry={existing.reload}
        />
      </div>
    );
  }
  return <DefinitionEditor key={alias ?? 'new'} existing={existing.data ?? null} />;
}

function DefinitionEditor({ existing }: { existing: Definition | null }) {
  const navigate = useNavigate();
  const [form, setForm] = useState<DefinitionForm>(
    existing ? formFromDefinition(existing) : NEW_DEFINITION_FORM,
  );
  const [view, setView] = useState<View>('form');
  const [json, setJson] = useState('');
  const [jsonError, setJsonError] = useState<string | undefined>(undefined);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const clusters = useResource('clusters', (signal) => listClusters(signal));

  const switchView = (next: View) => {
    if (next === view) return;
    if (next === 'json') {
      setJson(JSON.stringify(inputFromForm(form), null, 2));
      setJsonError(undefined);
      setView('json');
      return;
    }
    try {
      setForm(formFromJson(json));
      setView('form');
    } catch (err) {
      setJsonError(`Fix the JSON before going back to the form: ${(err as Error).message}`);
    }
  };

  const set = <K extends keyof DefinitionForm>(key: K, value: DefinitionForm[K]) =>
    setForm((f) => ({ ...f, [key]: value }));

  const save = async () => {
    setErrors({});
    setFailure(null);
    let body: unknown;
    if (view === 'json') {
      try {
        body = JSON.parse(json);
      } catch (err) {
        setJsonError(`Not valid JSON: ${(err as Error).message}`);
        return;
      }
    } else body = inputFromForm(form);
    setSaving(true);
    try {
      const saved = existing
        ? await updateDefinition(existing.definition_id, body as never)
        : await createDefinition(body as never);
      navigate(`/tasks/${encodeURIComponent(saved?.alias ?? (body as { alias: string }).alias)}`);
    } catch (err) {
      setSaving(false);
      if (err instanceof ApiError) {
        setErrors(err.fields);
        setFailure(view === 'form' ? summarize(err) : err.message);
        if (view === 'json' && Object.keys(err.fields).length)
          setJsonError(
            Object.entries(err.fields)
              .map(([k, m]) => `${k}: ${m}`)
              .join('; '),
          );
      } else setFailure(errorMessage(err));
    }
  };

  const title = existing ? `Edit ${existing.alias}` : 'New task';
  useEffect(() => {
    document.title = `${title} · Galley`;
  }, [title]);

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <div className="breadcrumbs">
            <Link to="/tasks">Tasks</Link>
            {existing ? (
              <>
                {' / '}
                <Link to={`/tasks/${encodeURIComponent(existing.alias)}`}>{existing.alias}</Link>
              </>
            ) : null}
          </div>
          <h1>{title}</h1>
        </div>
      </div>
      <form
        className="card"
        noValidate
        aria-label={title}
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <Tabs
          label="Edit as"
          value={view}
          onChange={switchView}
          tabs={[
            { id: 'form', label: 'Form' },
            { id: 'json', label: 'JSON' },
          ]}
        />
        {failure ? (
          <div className="banner banner-error" role="alert" data-testid="form-error">
            <strong>Not saved: </strong>
            {failure}
          </div>
        ) : null}
        {view === 'form' ? (
          <div {...tabPanelProps('form')}>
            <DefinitionFields
              form={form}
              set={set}
              errors={errors}
              clusters={clusters.data?.map((c) => c.name) ?? []}
            />
          </div>
        ) : (
          <div {...tabPanelProps('json')}>
            <JsonEditor
              label="Task definition (JSON)"
              value={json}
              onChange={setJson}
              error={jsonError}
              rows={22}
            />
          </div>
        )}
        <div className="form-actions">
          <Link className="btn" to={existing ? `/tasks/${encodeURIComponent(existing.alias)}` : '/tasks'}>
            Cancel
          </Link>
          <button type="submit" className="btn btn-primary" disabled={saving}>
            {saving ? 'Saving…' : existing ? 'Save changes' : 'Create task'}
          </button>
        </div>
      </form>
    </div>
  );
}

interface FieldsProps {
  form: DefinitionForm;
  set: <K extends keyof DefinitionForm>(key: K, value: DefinitionForm[K]) => void;
  errors: FieldErrors;
  clusters: string[];
}

function DefinitionFields({ form, set, errors, clusters }: FieldsProps) {
  const text = (
    key: 'alias' | 'group_name' | 'image' | 'cpu' | 'memory' | 'gpu' | 'tags' | 'ports',
    label: string,
    hint?: string,
    mono = false,
  ) => (
    <Field id={`f-${key}`} label={label} error={errors[key]} hint={hint}>
      <input
        {...fieldAria(`f-${key}`, errors[key])}
        className={mono ? 'input mono' : 'input'}
        value={form[key]}
        onChange={(e) => set(key, e.target.value)}
      />
    </Field>
  );
  return (
    <div className="form-grid">
      {text('alias', 'Alias', 'Unique name used to run it, e.g. hello-flotilla.')}
      {text('group_name', 'Group', 'Teams or projects; used to filter.')}
      {text(
        'image',
        'Image',
        'Recorded with each run. The local backend runs the command on this host, not in the image.',
        true,
      )}
      <Field
        id="f-command"
        label="Command"
        error={errors['command']}
        className="span-all"
        hint="Runs with /bin/sh -c."
      >
        <textarea
          {...fieldAria('f-command', errors['command'])}
          className="textarea"
          rows={4}
          spellCheck={false}
          value={form.command}
          onChange={(e) => set('command', e.target.value)}
        />
      </Field>
      {text('cpu', 'CPU (millicores)', '1000 = one CPU.')}
      {text('memory', 'Memory (MB)')}
      {text('gpu', 'GPUs')}
      {text('tags', 'Tags', 'Comma-separated.')}
      {text('ports', 'Ports', 'Comma-separated port numbers.')}
      <Field
        id="f-target_cluster"
        label="Target cluster"
        error={errors['target_cluster']}
        hint="Where runs go unless an execute says otherwise."
      >
        <select
          {...fieldAria('f-target_cluster', errors['target_cluster'])}
          className="select"
          value={form.target_cluster}
          onChange={(e) => set('target_cluster', e.target.value)}
        >
          <option value="">Server default</option>
          {[...new Set([...clusters, ...(form.target_cluster ? [form.target_cluster] : [])])].map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </Field>
      <div className="span-all">
        <EnvEditor value={form.env} onChange={(env) => set('env', env)} errors={errors} />
      </div>
    </div>
  );
}
