import { Link } from 'react-router';
import type { HistoryQuery, RunSortField } from '../api/runs.js';
import { RUN_STATUSES } from '../api/types.js';
import { Pager } from '../components/Pager.js';
import { RunsTable } from '../components/RunsTable.js';
import { EmptyState, ErrorState, Loading } from '../components/States.js';
import { fromLocalInputValue, toLocalInputValue } from '../format/time.js';
import { useLiveHistory } from '../hooks/use-live-history.js';
import { useNow } from '../hooks/use-now.js';
import { useShortcut } from '../hooks/use-shortcut.js';
import { useUrlParams } from '../hooks/use-url-params.js';
import { useUrlText } from '../hooks/use-url-text.js';
import { historyFromParams, historyToParams } from '../runs/history-params.js';
import { isActive } from '../runs/status.js';

const STATUS_WORDS: Record<string, string> = {
  QUEUED: 'Queued',
  PENDING: 'Pending',
  RUNNING: 'Running',
  STOPPED: 'Stopped',
  NEEDS_RETRY: 'Needs retry',
};

/** A text filter that updates the URL 300 ms after the last key press (not on every key). */
function TextFilter(props: {
  id: string;
  label: string;
  value: string;
  onCommit: (v: string) => void;
  placeholder?: string;
}) {
  const { id, label, value, onCommit, placeholder } = props;
  const [text, setText] = useUrlText(value, onCommit, 300);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        className="input"
        value={text}
        placeholder={placeholder}
        onChange={(e) => setText(e.target.value)}
      />
    </div>
  );
}

function Filters({ query, update }: { query: HistoryQuery; update: (patch: Partial<HistoryQuery>) => void }) {
  useShortcut('/', (event) => {
    event.preventDefault();
    document.getElementById('filter-alias')?.focus();
  });
  const statuses = query.statuses ?? [];
  const hasFilters =
    statuses.length > 0 || query.alias || query.group || query.owner || query.queuedFrom || query.queuedUntil;
  return (
    <div className="toolbar filters" role="search" aria-label="Filter runs">
      <fieldset className="field toolbar-row-break" style={{ border: 0, padding: 0, margin: 0 }}>
        <legend className="field-label">Status</legend>
        <div className="checkbox-row">
          {RUN_STATUSES.map((status) => (
            <label key={status}>
              <input
                type="checkbox"
                checked={statuses.includes(status)}
                onChange={(e) =>
                  update({
                    statuses: e.target.checked ? [...statuses, status] : statuses.filter((s) => s !== status),
                  })
                }
              />
              {STATUS_WORDS[status]}
            </label>
          ))}
        </div>
      </fieldset>
      <TextFilter
        id="filter-alias"
        label="Task alias"
        value={query.alias ?? ''}
        onCommit={(alias) => update({ alias })}
      />
      <TextFilter
        id="filter-group"
        label="Group"
        value={query.group ?? ''}
        onCommit={(group) => update({ group })}
      />
      <TextFilter
        id="filter-owner"
        label="Owner"
        value={query.owner ?? ''}
        onCommit={(owner) => update({ owner })}
      />
      <div className="field">
        <label htmlFor="filter-from">Queued from</label>
        <input
          id="filter-from"
          type="datetime-local"
          className="input"
          value={toLocalInputValue(query.queuedFrom)}
          onChange={(e) => update({ queuedFrom: fromLocalInputValue(e.target.value) })}
        />
      </div>
      <div className="field">
        <label htmlFor="filter-to">Queued until</label>
        <input
          id="filter-to"
          type="datetime-local"
          className="input"
          value={toLocalInputValue(query.queuedUntil)}
          onChange={(e) => update({ queuedUntil: fromLocalInputValue(e.target.value) })}
        />
      </div>
      {hasFilters ? (
        <button
          type="button"
          className="btn"
          onClick={() =>
            update({
              statuses: [],
              alias: '',
              group: '',
              owner: '',
              queuedFrom: undefined,
              queuedUntil: undefined,
            })
          }
        >
          Clear filters
        </button>
      ) : null}
    </div>
  );
}

/** The runs history: filters, sorting, paging, durations, kept live from the event stream. */
export function RunsPage() {
  const [params, setParams] = useUrlParams();
  const query = historyFromParams(params);
  const history = useLiveHistory(query);
  const runs = history.data?.history ?? [];
  const now = useNow(runs.some((r) => isActive(r.status)));

  const update = (patch: Partial<HistoryQuery>) => {
    const resetsPage = !('offset' in patch);
    setParams(historyToParams({ ...query, ...patch, offset: resetsPage ? 0 : (patch.offset ?? 0) }));
  };
  const onSort = (by: RunSortField) =>
    update({ sortBy: by, order: query.sortBy === by && query.order === 'desc' ? 'asc' : 'desc' });

  const filtered =
    (query.statuses?.length ?? 0) > 0 ||
    !!query.alias ||
    !!query.group ||
    !!query.owner ||
    !!query.queuedFrom ||
    !!query.queuedUntil;

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Runs</h1>
          <div className="subtitle">
            Every run of every task, newest first. Changes appear as they happen.
          </div>
        </div>
        <div className="page-actions">
          <Link className="btn btn-primary" to="/tasks">
            ▶ Run a task
          </Link>
        </div>
      </div>
      <div className="card">
        <Filters query={query} update={update} />
      </div>
      <div className="card card-flush">
        {history.loading ? (
          <Loading label="Loading runs…" />
        ) : history.error && !history.data ? (
          <ErrorState error={history.error} onRetry={history.reload} />
        ) : runs.length === 0 ? (
          filtered ? (
            <EmptyState title="No run matches these filters" icon="∅">
              Change or clear the filters to see more runs.
            </EmptyState>
          ) : (
            <EmptyState
              title="No runs yet"
              icon="▶"
              action={
                <Link className="btn btn-primary" to="/tasks">
                  Pick a task to run
                </Link>
              }
            >
              Runs appear here the moment they are queued.
            </EmptyState>
          )
        ) : (
          <>
            {history.error ? (
              <div className="banner banner-warning" role="status" style={{ margin: 'var(--space-3)' }}>
                Could not refresh: the list may be out of date.
              </div>
            ) : null}
            <RunsTable
              runs={runs}
              now={now}
              label="Runs"
              changed={history.changed}
              sort={{ by: query.sortBy, order: query.order, onSort }}
            />
            <Pager
              total={history.data?.total ?? 0}
              totalExact={history.data?.total_exact ?? true}
              noun="runs"
              limit={query.limit}
              offset={query.offset}
              onOffset={(offset) => update({ offset })}
              onLimit={(limit) => update({ limit })}
            />
          </>
        )}
      </div>
    </div>
  );
}
