import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { checkCron } from '../../schedules/cron.js';
import { presentSchedule } from '../../schedules/present.js';
import { ScheduleStore, type ScheduleRecord } from '../../schedules/schedules-sql.js';
import { sqlOf } from '../../store/sql-of.js';
import type { RoutesOptions } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { Errors, Id } from '../schemas/common.js';
import { Schedule, ScheduleCreate, ScheduleList, ScheduleUpdate } from '../schemas/schedules.js';

/** Most schedules one definition may have. */
export const MAX_SCHEDULES_PER_DEFINITION = 50;

/** Schedules of definitions: cron with a time zone, concurrency policy, catch-up, pause/resume. */
export const scheduleRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { deps, documented }) => {
  const schedules = new ScheduleStore(sqlOf(deps.store));
  const { clock } = deps;
  const tags = ['schedules'];
  const hide = !documented;
  const load = async (id: string) => (await schedules.get(id)) ?? Promise.reject(notFound('schedule', id));
  const byDefinition = { params: Type.Object({ definition_id: Id }) };
  const byId = { params: Type.Object({ schedule_id: Id }) };

  app.get(
    '/task/:definition_id/schedules',
    {
      schema: {
        tags,
        hide,
        summary: "A definition's schedules",
        ...byDefinition,
        response: { 200: ScheduleList, ...Errors },
      },
    },
    async (req) => {
      if (!(await deps.store.getDefinition(req.params.definition_id)))
        throw notFound('definition', req.params.definition_id);
      const list = await schedules.list(req.params.definition_id);
      const now = clock.now();
      return { total: list.length, schedules: list.map((s) => presentSchedule(s, now)) };
    },
  );

  app.post(
    '/task/:definition_id/schedules',
    {
      config: { permission: 'define' },
      schema: {
        tags,
        hide,
        summary: 'Add a schedule to a definition',
        ...byDefinition,
        body: ScheduleCreate,
        response: { 200: Schedule, ...Errors },
      },
    },
    async (req) => {
      const def = await deps.store.getDefinition(req.params.definition_id);
      if (!def) throw notFound('definition', req.params.definition_id);
      const b = req.body;
      if ((await schedules.list(def.definitionId)).length >= MAX_SCHEDULES_PER_DEFINITION)
        throw new ApiError(
          409,
          'TOO_MANY_SCHEDULES',
          `definition ${def.alias} has ${MAX_SCHEDULES_PER_DEFINITION} schedules, the most it may have`,
        );
      const timezone = b.timezone ?? 'UTC';
      checkCron(b.cron, timezone);
      const now = clock.now();
      const record: ScheduleRecord = {
        scheduleId: deps.newId(),
        definitionId: def.definitionId,
        cron: b.cron,
        timezone,
        concurrency: b.concurrency ?? 'allow',
        startingDeadlineSeconds: b.starting_deadline_seconds ?? null,
        catchUp: b.catch_up ?? 1,
        paused: b.paused ?? false,
        ownerId: b.owner_id ?? 'schedule',
        lastTick: now,
        createdAt: now,
        updatedAt: now,
      };
      return presentSchedule(await schedules.create(record), now);
    },
  );

  app.get(
    '/schedules',
    {
      schema: {
        tags,
        hide,
        summary: 'Every schedule, with its next runs',
        response: { 200: ScheduleList, ...Errors },
      },
    },
    async () => {
      const list = await schedules.list();
      const now = clock.now();
      return { total: list.length, schedules: list.map((s) => presentSchedule(s, now)) };
    },
  );

  app.get(
    '/schedules/:schedule_id',
    {
      schema: {
        tags,
        hide,
        summary: 'A schedule, its next runs and its last 20 ticks',
        ...byId,
        response: { 200: Schedule, ...Errors },
      },
    },
    async (req) => {
      const s = await load(req.params.schedule_id);
      return presentSchedule(s, clock.now(), await schedules.fires(s.scheduleId, 20));
    },
  );

  app.patch(
    '/schedules/:schedule_id',
    {
      config: { permission: 'define' },
      schema: {
        tags,
        hide,
        summary: 'Change a schedule; `paused` pauses and resumes it (ticks while paused never run)',
        ...byId,
        body: ScheduleUpdate,
        response: { 200: Schedule, ...Errors },
      },
    },
    async (req) => {
      const s = await load(req.params.schedule_id);
      const b = req.body;
      const now = clock.now();
      const next: ScheduleRecord = {
        ...s,
        cron: b.cron ?? s.cron,
        timezone: b.timezone ?? s.timezone,
        concurrency: b.concurrency ?? s.concurrency,
        startingDeadlineSeconds:
          b.starting_deadline_seconds === undefined ? s.startingDeadlineSeconds : b.starting_deadline_seconds,
        catchUp: b.catch_up ?? s.catchUp,
        paused: b.paused ?? s.paused,
        updatedAt: now,
      };
      checkCron(next.cron, next.timezone);
      // Resumed, or given a new cron: the ticks before now are not missed ones.
      const resumed = s.paused && !next.paused;
      if (resumed || next.cron !== s.cron || next.timezone !== s.timezone)
        next.lastTick = Math.max(s.lastTick, now);
      const updated = await schedules.update(next);
      if (!updated) throw notFound('schedule', s.scheduleId);
      return presentSchedule(updated, now);
    },
  );

  app.delete(
    '/schedules/:schedule_id',
    {
      config: { permission: 'define' },
      schema: {
        tags,
        hide,
        summary: 'Delete a schedule (its runs stay)',
        ...byId,
        response: { 200: Type.Object({ deleted: Type.Boolean() }), ...Errors },
      },
    },
    async (req) => {
      if (!(await schedules.delete(req.params.schedule_id)))
        throw notFound('schedule', req.params.schedule_id);
      return { deleted: true };
    },
  );
};
