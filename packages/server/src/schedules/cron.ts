import { Cron } from 'croner';
import { ApiError } from '../api/errors.js';

/**
 * Cron expressions and time zones, read by croner: validation with an answer naming the field,
 * the next fire times, and the ticks that came due.
 */

/** A paused croner job of `expression` in `timezone` (never started: it only computes times). */
function job(expression: string, timezone: string): Cron {
  return new Cron(expression, { timezone, paused: true });
}

/** Throws ApiError 422 naming `body.cron` or `body.timezone` when either is not valid. */
export function checkCron(expression: string, timezone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new ApiError(422, 'INVALID_TIMEZONE', `"${timezone}" is not an IANA time zone`, {
      'body.timezone': 'is not an IANA time zone (e.g. Europe/Paris, UTC)',
    });
  }
  let next: Date | null;
  try {
    next = job(expression, timezone).nextRun();
  } catch (err) {
    throw new ApiError(422, 'INVALID_CRON', `cron "${expression}": ${(err as Error).message}`, {
      'body.cron': 'is not a cron expression (5 fields, or 6 with seconds first)',
    });
  }
  if (next === null)
    throw new ApiError(422, 'INVALID_CRON', `cron "${expression}" never fires`, {
      'body.cron': 'never fires',
    });
}

/** The next `n` fire times (ms) after `from`. */
export function nextTicks(expression: string, timezone: string, from: number, n: number): number[] {
  return job(expression, timezone)
    .nextRuns(n, new Date(from))
    .map((d) => d.getTime());
}

/**
 * Ticks after `after` and at or before `now`, ascending: at most `max`, the newest (older ones
 * beyond `max` are not looked at: they could not fire anyway).
 */
export function dueTicks(
  expression: string,
  timezone: string,
  after: number,
  now: number,
  max: number,
): number[] {
  if (now <= after) return [];
  return job(expression, timezone)
    .previousRuns(max, new Date(now + 1))
    .map((d) => d.getTime())
    .filter((t) => t > after && t <= now)
    .sort((a, b) => a - b);
}

/** Ticks after `after` and at or before `now`, ascending, at most `max` (the oldest): found forward, stopping at `now`. */
export function ticksBetween(
  expression: string,
  timezone: string,
  after: number,
  now: number,
  max: number,
): number[] {
  const j = job(expression, timezone);
  const out: number[] = [];
  let from = new Date(after);
  while (out.length < max) {
    const next = j.nextRun(from);
    if (next === null || next.getTime() > now) break;
    out.push(next.getTime());
    from = next;
  }
  return out;
}
