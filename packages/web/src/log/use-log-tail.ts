import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/http.js';
import { getLogPage } from '../api/runs.js';
import type { LogPage } from '../api/types.js';
import { LogLines } from './log-lines.js';

/** How often a live run's log is asked for new output once it has caught up, in ms. */
export const LOG_POLL_MS = 1000;

export interface LogTail {
  lines: LogLines;
  /** `lines.version` as React state: changes whenever lines were added. */
  version: number;
  /** True once the first page came back. */
  loaded: boolean;
  /** True when the run is over and its whole log has been read. */
  complete: boolean;
  /** The last failure to read; cleared by the next success. */
  error: unknown;
}

/** Waits `ms` unless `signal` aborts or `wake` is called first. Never rejects. */
function pause(ms: number, signal: AbortSignal, wakeRef: { current: (() => void) | null }): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      wakeRef.current = null;
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
    wakeRef.current = done;
  });
}

/** Delay after the n-th failure in a row: 1 s doubling to 15 s, ±20% jitter. */
function failureDelay(failures: number, random: () => number): number {
  return Math.min(15_000, 1000 * 2 ** Math.min(failures - 1, 4)) * (0.8 + 0.4 * random());
}

/**
 * Reads a run's log page by page with the server's `last_seen` token (each request costs what it
 * returns, not the whole log) and keeps following it while the run is live: once caught up it asks
 * again every LOG_POLL_MS. When `finished` turns true it reads on until a read that began after
 * the end comes back empty, then stops. A 404 before the run has output counts as "nothing yet".
 */
export function useLogTail(
  runId: string,
  finished: boolean,
  random: () => number = Math.random,
  /** Reads a page of another log than the run's (then `runId` is only the key that restarts it). */
  read?: (lastSeen: string | undefined, signal: AbortSignal) => Promise<LogPage>,
): LogTail {
  const [lines] = useState(() => new LogLines());
  const [version, setVersion] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const finishedRef = useRef(finished);
  const wakeRef = useRef<(() => void) | null>(null);
  const readRef = useRef(read);
  readRef.current = read;

  useEffect(() => {
    finishedRef.current = finished;
    if (finished) wakeRef.current?.();
  }, [finished]);

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    lines.clear();
    setVersion(lines.version);
    setLoaded(false);
    setComplete(false);
    let token: string | undefined;
    let failures = 0;
    const run = async () => {
      while (!signal.aborted) {
        const finishedBefore = finishedRef.current;
        try {
          const reader = readRef.current ?? ((t, s) => getLogPage(runId, t, s));
          const page = await reader(token, signal).catch((err: unknown) => {
            if (err instanceof ApiError && err.isNotFound) return { log: '', last_seen: token };
            throw err;
          });
          if (signal.aborted) return;
          failures = 0;
          setError(undefined);
          setLoaded(true);
          if (page.last_seen !== undefined && page.last_seen !== null) token = page.last_seen;
          if (page.log) {
            lines.append(page.log);
            setVersion(lines.version);
            continue;
          }
          // Caught up, and the run had ended before this read began: nothing more will come.
          if (finishedBefore) {
            setComplete(true);
            return;
          }
          await pause(LOG_POLL_MS, signal, wakeRef);
        } catch (err) {
          if (signal.aborted) return;
          failures++;
          setError(err);
          await pause(failureDelay(failures, random), signal, wakeRef);
        }
      }
    };
    void run();
    return () => controller.abort();
  }, [runId, lines, random]);

  return { lines, version, loaded, complete, error };
}
