import type { Schedule } from '../api/schemas/schedules.js';
import { nextTicks } from './cron.js';
import type { FireRecord, ScheduleRecord } from './schedules-sql.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** How many next fire times an answer shows. */
export const NEXT_RUNS = 5;

/** A schedule as the API answers it, with its next 5 fire times (none while paused). */
export function presentSchedule(s: ScheduleRecord, now: number, fires?: FireRecord[]): Schedule {
  return {
    schedule_id: s.scheduleId,
    definition_id: s.definitionId,
    cron: s.cron,
    timezone: s.timezone,
    concurrency: s.concurrency,
    starting_deadline_seconds: s.startingDeadlineSeconds,
    catch_up: s.catchUp,
    paused: s.paused,
    owner_id: s.ownerId,
    next_runs: s.paused ? [] : nextTicks(s.cron, s.timezone, now, NEXT_RUNS).map(iso),
    last_tick: iso(s.lastTick),
    ...(fires
      ? {
          recent_fires: fires.map((f) => ({
            tick: iso(f.tick),
            run_id: f.runId,
            skipped_reason: f.skippedReason,
          })),
        }
      : {}),
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
  };
}
