import type { Timestamp } from '../api/types.js';
import { elapsed, formatDuration } from '../format/time.js';

/** Time from `start` to `end` (to `now` while running); '—' before it started. */
export function Duration({ start, end, now }: { start: Timestamp; end: Timestamp; now: number }) {
  const ms = elapsed(start, end, now);
  return <span className="nowrap">{ms === null ? '—' : formatDuration(ms)}</span>;
}
