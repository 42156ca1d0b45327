import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import {
  extendSearch,
  firstMatchFrom,
  matchesOnLine,
  NO_MATCHES,
  searchLog,
  type LogMatches,
} from '../log/log-search.js';
import type { LogTail } from '../log/use-log-tail.js';
import { errorMessage } from './States.js';
import { VirtualLines } from './VirtualLines.js';

/** Height of one log line in px; `.log-line` in styles/log.css uses the same. */
export const LOG_LINE_HEIGHT = 20;
/** The viewport grows with the log between these heights (px); CSS also caps it at 65vh. */
const MIN_VIEWPORT_PX = 120;
const MAX_VIEWPORT_PX = 640;

export interface LogViewerProps {
  runId: string;
  tail: LogTail;
  /** The run may still write output. */
  live: boolean;
  /** The Raw link; default the run's raw log. */
  rawHref?: string;
  /** What writes the log, in the empty log's words; default `run`. */
  noun?: string;
}

function highlight(text: string, matches: LogMatches, line: number, current: number): ReactNode {
  const [start, end] = matchesOnLine(matches, line);
  if (start === end) return text;
  const parts: ReactNode[] = [];
  let at = 0;
  for (let k = start; k < end; k++) {
    const from = matches.starts[k] ?? 0;
    if (from < at) continue;
    parts.push(text.slice(at, from));
    parts.push(
      <mark key={k} className={k === current ? 'current' : undefined} data-match={k}>
        {text.slice(from, from + matches.length)}
      </mark>,
    );
    at = from + matches.length;
  }
  parts.push(text.slice(at));
  return parts;
}

/**
 * A run's log: virtualized lines with line numbers, following the end while the run is live
 * (scrolling up pauses following), and a search that highlights every match with next/previous
 * (Enter / Shift+Enter) and a count.
 */
export function LogViewer({ runId, tail, live, rawHref, noun = 'run' }: LogViewerProps) {
  const { lines, version } = tail;
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const [matches, setMatches] = useState<LogMatches>(NO_MATCHES);
  const [current, setCurrent] = useState(-1);
  const [scrollTo, setScrollTo] = useState<{ line: number; nonce: number } | null>(null);
  const firstVisible = useRef(0);

  // Search again when the query changes (debounced: a 100,000-line scan per key is wasteful).
  useEffect(() => {
    const timer = setTimeout(() => {
      const found = searchLog(lines, query);
      setMatches(found);
      const start = found.lines.length ? firstMatchFrom(found, firstVisible.current) : -1;
      setCurrent(start);
      if (start >= 0) {
        setFollow(false);
        setScrollTo({ line: found.lines[start] ?? 0, nonce: Date.now() });
      }
    }, 150);
    return () => clearTimeout(timer);
    // `lines` is mutable and stable; growth is handled below.
  }, [query, lines]);

  // The log grew: search only what is new.
  useEffect(() => {
    setMatches((previous) => (previous.query ? extendSearch(previous, lines) : previous));
  }, [version, lines]);

  const go = useCallback(
    (step: 1 | -1) => {
      const total = matches.lines.length;
      if (total === 0) return;
      const next = current < 0 ? 0 : (current + step + total) % total;
      setCurrent(next);
      setFollow(false);
      setScrollTo({ line: matches.lines[next] ?? 0, nonce: Date.now() });
    },
    [matches, current],
  );

  const renderLine = (index: number) => (
    <div className="log-line" key={index} data-line={index + 1}>
      <span className="log-ln" aria-hidden="true">
        {index + 1}
      </span>
      <span className="log-text">{highlight(lines.line(index), matches, index, current)}</span>
    </div>
  );

  const count = lines.count;
  const total = matches.lines.length;
  const counter = !query
    ? ''
    : total === 0
      ? 'No matches'
      : `${current + 1} of ${total}${matches.capped ? '+' : ''}`;

  return (
    <section className="card card-flush log-card" aria-labelledby="log-title">
      <div className="log-toolbar">
        <h2 id="log-title">Logs</h2>
        <div className="log-search" role="search">
          <label htmlFor="log-search" className="visually-hidden">
            Search the log
          </label>
          <input
            id="log-search"
            type="search"
            className="input"
            placeholder="Search the log…"
            value={query}
            aria-describedby="log-search-count"
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                go(e.shiftKey ? -1 : 1);
              } else if (e.key === 'Escape' && query) {
                e.preventDefault();
                setQuery('');
              }
            }}
          />
          <span id="log-search-count" className="log-count" aria-live="polite">
            {counter}
          </span>
          <button
            type="button"
            className="btn btn-sm"
            aria-label="Previous match"
            disabled={total === 0}
            onClick={() => go(-1)}
          >
            ↑
          </button>
          <button
            type="button"
            className="btn btn-sm"
            aria-label="Next match"
            disabled={total === 0}
            onClick={() => go(1)}
          >
            ↓
          </button>
        </div>
        <div className="row">
          {live ? (
            <button
              type="button"
              className="btn btn-sm"
              aria-pressed={follow}
              onClick={() => setFollow((f) => !f)}
              title="Keep the newest output in view"
            >
              {follow ? '● Following' : 'Follow'}
            </button>
          ) : null}
          <a
            className="btn btn-sm"
            href={rawHref ?? `/api/v1/${encodeURIComponent(runId)}/logs?raw_text=true`}
            target="_blank"
            rel="noreferrer"
          >
            Raw
          </a>
        </div>
      </div>
      {tail.error ? (
        <div className="banner banner-warning log-banner" role="status">
          Could not read the log: {errorMessage(tail.error)} Retrying…
        </div>
      ) : null}
      {count === 0 ? (
        <div className="log-empty muted" data-testid="log-empty">
          {!tail.loaded
            ? 'Loading the log…'
            : live
              ? `No output yet. Lines appear here as the ${noun} writes them.`
              : `This ${noun} wrote no output.`}
        </div>
      ) : (
        <VirtualLines
          className="log-viewport"
          height={Math.min(MAX_VIEWPORT_PX, Math.max(MIN_VIEWPORT_PX, count * LOG_LINE_HEIGHT + 16))}
          label="Log output"
          count={count}
          lineHeight={LOG_LINE_HEIGHT}
          renderLine={renderLine}
          follow={live && follow}
          scrollTo={scrollTo}
          onScrolled={(atBottom, firstLine) => {
            firstVisible.current = firstLine;
            if (live) setFollow(atBottom);
          }}
        />
      )}
      <div className="log-footer muted">
        {count.toLocaleString()} {count === 1 ? 'line' : 'lines'}
        {live ? (tail.complete ? '' : ' · live') : tail.complete ? ' · complete' : ''}
      </div>
    </section>
  );
}
