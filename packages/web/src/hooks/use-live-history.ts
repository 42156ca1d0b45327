import { useEffect, useRef, useState } from 'react';
import { listHistory, type HistoryQuery } from '../api/runs.js';
import type { HistoryPage, Run } from '../api/types.js';
import { useRunStream } from '../app/run-stream-context.js';
import { runMatches } from '../runs/history-params.js';
import { isOlderRun, newerRun } from '../runs/status.js';
import { useResource, type Resource } from './use-resource.js';

/** A loaded page, with any row the stream had already made newer kept as it is. */
function keepNewerRows(current: HistoryPage | undefined, loaded: HistoryPage): HistoryPage {
  if (!current) return loaded;
  const shown = new Map(current.history.map((r) => [r.run_id, r]));
  return { ...loaded, history: loaded.history.map((r) => newerRun(shown.get(r.run_id), r)) };
}

/** Fewest ms between two re-reads of the page caused by stream events. */
const RELOAD_GAP_MS = 700;

export interface LiveHistory extends Resource<HistoryPage> {
  /** Ids of runs changed by the stream in the last moments (for a highlight). */
  changed: ReadonlySet<string>;
}

/**
 * One page of the runs history, kept current from the run-change stream without reloading the
 * page: a run already shown is replaced in place at once; a change that may add or remove rows
 * (a new run that matches, a shown run that no longer does) re-reads the page, at most once every
 * RELOAD_GAP_MS. A stream reconnect re-reads too (changes may have been missed).
 */
export function useLiveHistory(query: HistoryQuery): LiveHistory {
  const key = JSON.stringify(query);
  const page = useResource(key, (signal) => listHistory(query, signal), keepNewerRows);
  const [changed, setChanged] = useState<ReadonlySet<string>>(new Set());
  const reloadTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const clearTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const queryRef = useRef(query);
  queryRef.current = query;
  const { reload, setData } = page;
  const dataRef = useRef(page.data);
  dataRef.current = page.data;

  const scheduleReload = () => {
    if (reloadTimer.current) return;
    reloadTimer.current = setTimeout(() => {
      reloadTimer.current = null;
      reload();
    }, RELOAD_GAP_MS);
  };

  useEffect(
    () => () => {
      if (reloadTimer.current) clearTimeout(reloadTimer.current);
      if (clearTimer.current) clearTimeout(clearTimer.current);
    },
    [],
  );

  useRunStream({
    onRun: (run: Run) => {
      const matches = runMatches(run, queryRef.current);
      const shown = dataRef.current?.history.some((r) => r.run_id === run.run_id) ?? false;
      if (shown) {
        setData((previous) => {
          if (!previous) return previous as unknown as HistoryPage;
          const history = previous.history.map((r) =>
            r.run_id === run.run_id && !isOlderRun(run, r) ? { ...r, ...run } : r,
          );
          return { ...previous, history };
        });
      }
      if (shown || matches) {
        setChanged((prev) => new Set(prev).add(run.run_id));
        if (clearTimer.current) clearTimeout(clearTimer.current);
        clearTimer.current = setTimeout(() => setChanged(new Set()), 1500);
      }
      // A sorted, filtered page can gain or lose rows; the server decides which.
      if (matches !== shown || (matches && queryRef.current.sortBy !== 'queued_at')) scheduleReload();
    },
    onReconnect: scheduleReload,
  });

  return { ...page, changed };
}
