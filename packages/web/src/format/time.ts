import type { Timestamp } from '../api/types.js';

/** A server timestamp (ISO string or ms since the epoch) in ms; null when absent or unreadable. */
export function toMillis(value: Timestamp): number | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const timeOnly = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** A readable local date and time, or '—' when absent. */
export function formatDateTime(value: Timestamp): string {
  const ms = toMillis(value);
  return ms === null ? '—' : dateTime.format(ms);
}

/** Local time of day (same day as `now`) or date and time; '—' when absent. */
export function formatWhen(value: Timestamp, now: number): string {
  const ms = toMillis(value);
  if (ms === null) return '—';
  const sameDay = new Date(ms).toDateString() === new Date(now).toDateString();
  return sameDay ? timeOnly.format(ms) : dateTime.format(ms);
}

/** A duration in ms as `850 ms`, `12.3 s`, `4m 05s`, `2h 03m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.floor(s)} s`;
  const total = Math.floor(s);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(sec).padStart(2, '0')}s`;
}

/** Time between two timestamps (to `now` when `end` is absent); null when `start` is absent. */
export function elapsed(start: Timestamp, end: Timestamp, now: number): number | null {
  const a = toMillis(start);
  if (a === null) return null;
  const b = toMillis(end) ?? now;
  return Math.max(0, b - a);
}

/** `3 min ago`, `in 5 s`: a coarse relative time for lists. */
export function formatRelative(value: Timestamp, now: number): string {
  const ms = toMillis(value);
  if (ms === null) return '—';
  const diff = ms - now;
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
  if (abs < 60_000) return rtf.format(Math.round(diff / 1000), 'second');
  if (abs < 3_600_000) return rtf.format(Math.round(diff / 60_000), 'minute');
  if (abs < 86_400_000) return rtf.format(Math.round(diff / 3_600_000), 'hour');
  return rtf.format(Math.round(diff / 86_400_000), 'day');
}

/** A ms time as the value of an `<input type="datetime-local">` (local time, minutes). */
export function toLocalInputValue(ms: number | undefined): string {
  if (ms === undefined) return '';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The value of a datetime-local input as ms; undefined when empty or invalid. */
export function fromLocalInputValue(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}
