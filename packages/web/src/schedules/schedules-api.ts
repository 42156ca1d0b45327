import type { Schedule, ScheduleCreate, ScheduleList, ScheduleUpdate } from '@galley/server/api';
import { Cron } from 'croner';
import { requestJson } from '../api/http.js';

/** The schedules' API calls (see the server's /api/v1/schedules). */
export const schedulesApi = {
  all: (signal?: AbortSignal) => requestJson<ScheduleList>('GET', '/api/v1/schedules', { signal }),
  of: (definitionId: string, signal?: AbortSignal) =>
    requestJson<ScheduleList>('GET', `/api/v1/task/${encodeURIComponent(definitionId)}/schedules`, {
      signal,
    }),
  create: (definitionId: string, body: ScheduleCreate) =>
    requestJson<Schedule>('POST', `/api/v1/task/${encodeURIComponent(definitionId)}/schedules`, { body }),
  update: (id: string, body: ScheduleUpdate) =>
    requestJson<Schedule>('PATCH', `/api/v1/schedules/${encodeURIComponent(id)}`, { body }),
  remove: (id: string) =>
    requestJson<{ deleted: boolean }>('DELETE', `/api/v1/schedules/${encodeURIComponent(id)}`),
};

/**
 * The next `n` fire times of a cron expression in a time zone, computed here with croner (the
 * server's library), or the reason it is not valid — the editor's live preview.
 */
export function previewFireTimes(
  cron: string,
  timezone: string,
  n = 5,
): { times: Date[]; error?: undefined } | { times?: undefined; error: string } {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    return { error: `"${timezone}" is not an IANA time zone` };
  }
  try {
    const times = new Cron(cron, { timezone, paused: true }).nextRuns(n);
    return times.length ? { times } : { error: 'this expression never fires' };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
