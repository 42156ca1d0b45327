import { Link } from 'react-router';
import type { RunSortField } from '../api/runs.js';
import type { Run } from '../api/types.js';
import { formatWhen } from '../format/time.js';
import { runOwner } from '../runs/status.js';
import { Duration } from './Duration.js';
import { StatusBadge } from './StatusBadge.js';

export interface RunsSort {
  by: RunSortField;
  order: 'asc' | 'desc';
  onSort: (by: RunSortField) => void;
}

export interface RunsTableProps {
  runs: Run[];
  now: number;
  label: string;
  sort?: RunsSort;
  /** Runs that just changed (highlighted briefly). */
  changed?: ReadonlySet<string>;
  /** Show why queued runs wait (the capacity page). */
  showQueuedReason?: boolean;
}

function SortHeader({
  field,
  label,
  sort,
  numeric,
}: {
  field: RunSortField;
  label: string;
  sort?: RunsSort;
  numeric?: boolean;
}) {
  const active = sort?.by === field;
  return (
    <th
      scope="col"
      className={numeric ? 'num' : undefined}
      aria-sort={active ? (sort?.order === 'asc' ? 'ascending' : 'descending') : undefined}
    >
      {sort ? (
        <button type="button" className="sort-btn" onClick={() => sort.onSort(field)}>
          {label}
          <span aria-hidden="true">{active ? (sort.order === 'asc' ? '▲' : '▼') : '↕'}</span>
        </button>
      ) : (
        label
      )}
    </th>
  );
}

/** A short form of a run id for tables: a UUID's first group (the full id is in the link's title). */
export function shortId(id: string): string {
  const head = id.split('-')[0] ?? id;
  return head.length >= 6 && head.length < id.length ? head : id.length > 12 ? id.slice(0, 12) : id;
}

/** Runs with status, task, owner, times and duration; each row links to its run page. */
export function RunsTable({ runs, now, label, sort, changed, showQueuedReason }: RunsTableProps) {
  return (
    <div className="table-wrap">
      <table className="table" aria-label={label}>
        <thead>
          <tr>
            <SortHeader field="status" label="Status" sort={sort} />
            <th scope="col">Run</th>
            <SortHeader field="alias" label="Task" sort={sort} />
            <SortHeader field="group_name" label="Group" sort={sort} />
            <SortHeader field="owner_id" label="Owner" sort={sort} />
            <SortHeader field="cluster" label="Cluster" sort={sort} />
            <SortHeader field="queued_at" label="Queued" sort={sort} />
            <SortHeader field="started_at" label="Started" sort={sort} />
            <th scope="col" className="num">
              Duration
            </th>
            <SortHeader field="exit_code" label="Exit" sort={sort} numeric />
            {showQueuedReason ? <th scope="col">Waiting because</th> : null}
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr
              key={run.run_id}
              className={changed?.has(run.run_id) ? 'row-flash' : undefined}
              data-run-id={run.run_id}
            >
              <td>
                <StatusBadge run={run} />
              </td>
              <td>
                <Link className="mono" to={`/runs/${encodeURIComponent(run.run_id)}`} title={run.run_id}>
                  {shortId(run.run_id)}
                </Link>
              </td>
              <td>
                <Link to={`/tasks/${encodeURIComponent(run.alias)}`}>{run.alias}</Link>
              </td>
              <td>{run.group_name || <span className="muted">—</span>}</td>
              <td>{runOwner(run) ?? <span className="muted">—</span>}</td>
              <td>{run.cluster ?? <span className="muted">—</span>}</td>
              <td className="nowrap">{formatWhen(run.queued_at, now)}</td>
              <td className="nowrap">{formatWhen(run.started_at, now)}</td>
              <td className="num">
                <Duration start={run.started_at} end={run.finished_at} now={now} />
              </td>
              <td className="num mono">{run.exit_code ?? <span className="muted">—</span>}</td>
              {showQueuedReason ? <td>{run.queued_reason ?? <span className="muted">—</span>}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
