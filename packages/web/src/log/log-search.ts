import type { LogLines } from './log-lines.js';

/** Most matches a search keeps; beyond this the count reads "N+" and next/previous stay in range. */
export const MAX_MATCHES = 100_000;

/**
 * The matches of a search, as parallel arrays sorted by position: match k is on line
 * `lines[k]`, characters `[starts[k], starts[k] + length)`.
 */
export interface LogMatches {
  query: string;
  length: number;
  lines: number[];
  starts: number[];
  /** True when MAX_MATCHES was reached and later matches are not listed. */
  capped: boolean;
  /** The log's open line when it was searched: lines before it are final, so are their matches. */
  scannedOpenLine: number;
}

/** No search. */
export const NO_MATCHES: LogMatches = {
  query: '',
  length: 0,
  lines: [],
  starts: [],
  capped: false,
  scannedOpenLine: 0,
};

function scan(log: LogLines, needle: string, fromLine: number, out: LogMatches): void {
  const count = log.count;
  for (let i = fromLine; i < count; i++) {
    const text = log.line(i).toLowerCase();
    let at = text.indexOf(needle);
    while (at !== -1) {
      if (out.lines.length >= MAX_MATCHES) {
        out.capped = true;
        return;
      }
      out.lines.push(i);
      out.starts.push(at);
      at = text.indexOf(needle, at + Math.max(1, needle.length));
    }
  }
}

/** Case-insensitive matches of `query` in the whole log. An empty query matches nothing. */
export function searchLog(log: LogLines, query: string): LogMatches {
  if (!query) return NO_MATCHES;
  const out: LogMatches = {
    query,
    length: query.length,
    lines: [],
    starts: [],
    capped: false,
    scannedOpenLine: log.openLine,
  };
  scan(log, query.toLowerCase(), 0, out);
  return out;
}

/**
 * The matches after the log grew: matches on lines that were already final are kept, and the
 * search goes on from the line that was open. Cost is proportional to what was added.
 */
export function extendSearch(previous: LogMatches, log: LogLines): LogMatches {
  if (!previous.query || previous.capped) return previous;
  const fromLine = previous.scannedOpenLine;
  let keep = previous.lines.length;
  while (keep > 0 && (previous.lines[keep - 1] ?? 0) >= fromLine) keep--;
  const out: LogMatches = {
    query: previous.query,
    length: previous.length,
    lines: previous.lines.slice(0, keep),
    starts: previous.starts.slice(0, keep),
    capped: false,
    scannedOpenLine: log.openLine,
  };
  scan(log, previous.query.toLowerCase(), fromLine, out);
  return out;
}

/** Index of the first match on or after `line` (wrapping to 0); -1 when there are none. */
export function firstMatchFrom(matches: LogMatches, line: number): number {
  if (matches.lines.length === 0) return -1;
  let lo = 0;
  let hi = matches.lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((matches.lines[mid] ?? 0) < line) lo = mid + 1;
    else hi = mid;
  }
  return lo < matches.lines.length ? lo : 0;
}

/** `[start, end)` indexes into the match arrays of the matches on `line`. */
export function matchesOnLine(matches: LogMatches, line: number): [number, number] {
  const start = firstMatchFrom(matches, line);
  if (start === -1 || matches.lines[start] !== line) return [0, 0];
  let end = start;
  while (end < matches.lines.length && matches.lines[end] === line) end++;
  return [start, end];
}
