import { useMemo } from 'react';
import { Link, useNavigate } from 'react-router';
import { listAllDefinitions } from '../api/definitions.js';
import type { Definition } from '../api/types.js';
import { SearchInput } from '../components/SearchInput.js';
import { EmptyState, ErrorState, Loading } from '../components/States.js';
import { formatMemoryMb, formatMillicores } from '../format/resources.js';
import { useResource } from '../hooks/use-resource.js';
import { useShortcut } from '../hooks/use-shortcut.js';
import { useUrlParams } from '../hooks/use-url-params.js';
import { useUrlText } from '../hooks/use-url-text.js';

/** Definitions whose alias contains `q` (any case) and that have the group and tag, when given. */
export function filterDefinitions(
  all: readonly Definition[],
  q: string,
  group: string,
  tag: string,
): Definition[] {
  const needle = q.trim().toLowerCase();
  return all.filter(
    (d) =>
      (!needle || d.alias.toLowerCase().includes(needle)) &&
      (!group || d.group_name === group) &&
      (!tag || (d.tags ?? []).includes(tag)),
  );
}

function uniqueSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].filter(Boolean).sort((a, b) => a.localeCompare(b));
}

/** Task definitions with search by alias, group and tag; the way to create, run and open them. */
export function TasksPage() {
  const navigate = useNavigate();
  const [params, setParams] = useUrlParams();
  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next);
  };
  const [q, setQ] = useUrlText(params.get('q') ?? '', (v) => setParam('q', v));
  const group = params.get('group') ?? '';
  const tag = params.get('tag') ?? '';
  const definitions = useResource('definitions', (signal) => listAllDefinitions(signal));
  useShortcut('n', () => navigate('/tasks/new'));

  const all = definitions.data ?? [];
  const groups = useMemo(() => uniqueSorted(all.map((d) => d.group_name)), [all]);
  const tags = useMemo(() => uniqueSorted(all.flatMap((d) => d.tags ?? [])), [all]);
  const shown = useMemo(() => filterDefinitions(all, q, group, tag), [all, q, group, tag]);

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Tasks</h1>
          <div className="subtitle">
            What Galley can run: a command, its image, resources and environment.
          </div>
        </div>
        <div className="page-actions">
          <Link className="btn btn-primary" to="/tasks/new" aria-keyshortcuts="n">
            + New task
          </Link>
        </div>
      </div>

      <div className="card card-flush">
        <div className="toolbar" style={{ padding: 'var(--space-3) var(--space-4)' }} role="search">
          <SearchInput label="Search by alias" value={q} onChange={setQ} placeholder="alias…" />
          <div className="field">
            <label htmlFor="group-filter">Group</label>
            <select
              id="group-filter"
              className="select"
              value={group}
              onChange={(e) => setParam('group', e.target.value)}
            >
              <option value="">All groups</option>
              {groups.map((g) => (
                <option key={g}>{g}</option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="tag-filter">Tag</label>
            <select
              id="tag-filter"
              className="select"
              value={tag}
              onChange={(e) => setParam('tag', e.target.value)}
            >
              <option value="">All tags</option>
              {tags.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </div>
        </div>
        {definitions.loading ? (
          <Loading label="Loading tasks…" />
        ) : definitions.error && !definitions.data ? (
          <ErrorState error={definitions.error} onRetry={definitions.reload} />
        ) : all.length === 0 ? (
          <EmptyState
            title="No tasks yet"
            icon="+"
            action={
              <Link className="btn btn-primary" to="/tasks/new">
                Define your first task
              </Link>
            }
          >
            A task says what to run. Define one, then run it as often as you like.
          </EmptyState>
        ) : shown.length === 0 ? (
          <EmptyState title="No task matches" icon="∅">
            Nothing matches this search. Clear the filters to see all {all.length} tasks.
          </EmptyState>
        ) : (
          <DefinitionTable definitions={shown} />
        )}
      </div>
    </div>
  );
}

function DefinitionTable({ definitions }: { definitions: Definition[] }) {
  return (
    <div className="table-wrap">
      <table className="table" aria-label="Tasks">
        <thead>
          <tr>
            <th scope="col">Alias</th>
            <th scope="col">Group</th>
            <th scope="col">Image</th>
            <th scope="col">Command</th>
            <th scope="col" className="num">
              CPU
            </th>
            <th scope="col" className="num">
              Memory
            </th>
            <th scope="col">Tags</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {definitions.map((d) => (
            <tr key={d.definition_id}>
              <td>
                <Link to={`/tasks/${encodeURIComponent(d.alias)}`} className="mono">
                  {d.alias}
                </Link>
              </td>
              <td>{d.group_name || <span className="muted">—</span>}</td>
              <td className="mono truncate" title={d.image}>
                {d.image || <span className="muted">—</span>}
              </td>
              <td className="mono truncate" title={d.command}>
                {d.command}
              </td>
              <td className="num nowrap">{formatMillicores(d.cpu)}</td>
              <td className="num nowrap">{formatMemoryMb(d.memory)}</td>
              <td>
                {(d.tags ?? []).map((t) => (
                  <span className="tag" key={t}>
                    {t}
                  </span>
                ))}
              </td>
              <td className="nowrap">
                <Link
                  className="btn btn-sm"
                  to={`/tasks/${encodeURIComponent(d.alias)}/run`}
                  aria-label={`Run ${d.alias}`}
                >
                  ▶ Run
                </Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
