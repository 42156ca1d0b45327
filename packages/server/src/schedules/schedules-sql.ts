import type { ConcurrencyPolicy } from '@galley/core';
import type { SqlQuerier } from '../store/sql-client.js';

/** A schedule as stored. Times in ms. */
export interface ScheduleRecord {
  scheduleId: string;
  definitionId: string;
  cron: string;
  timezone: string;
  concurrency: ConcurrencyPolicy;
  startingDeadlineSeconds: number | null;
  catchUp: number;
  paused: boolean;
  ownerId: string;
  /** The newest tick handled (fired or skipped); ticks after it are still to come. */
  lastTick: number;
  createdAt: number;
  updatedAt: number;
}

/** One tick a schedule handled: the run it started, or why it started none (neither = being started). */
export interface FireRecord {
  scheduleId: string;
  tick: number;
  runId: string | null;
  skippedReason: string | null;
}

type Row = Record<string, unknown>;
const num = (v: unknown): number => Number(v);

function scheduleFromRow(r: Row): ScheduleRecord {
  return {
    scheduleId: String(r['schedule_id']),
    definitionId: String(r['definition_id']),
    cron: String(r['cron']),
    timezone: String(r['timezone']),
    concurrency: String(r['concurrency']) as ConcurrencyPolicy,
    startingDeadlineSeconds:
      r['starting_deadline_seconds'] === null ? null : num(r['starting_deadline_seconds']),
    catchUp: num(r['catch_up']),
    paused: Boolean(r['paused']),
    ownerId: String(r['owner_id']),
    lastTick: num(r['last_tick']),
    createdAt: num(r['created_at']),
    updatedAt: num(r['updated_at']),
  };
}

const fireFromRow = (r: Row): FireRecord => ({
  scheduleId: String(r['schedule_id']),
  tick: num(r['tick']),
  runId: r['run_id'] === null ? null : String(r['run_id']),
  skippedReason: r['skipped_reason'] === null ? null : String(r['skipped_reason']),
});

/** The schedules' queries (their tables are migration 007's). */
export class ScheduleStore {
  constructor(private readonly db: SqlQuerier) {}

  async create(s: ScheduleRecord): Promise<ScheduleRecord> {
    await this.db.query(
      `INSERT INTO schedules (schedule_id, definition_id, cron, timezone, concurrency, starting_deadline_seconds,
         catch_up, paused, owner_id, last_tick, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        s.scheduleId,
        s.definitionId,
        s.cron,
        s.timezone,
        s.concurrency,
        s.startingDeadlineSeconds,
        s.catchUp,
        s.paused,
        s.ownerId,
        s.lastTick,
        s.createdAt,
        s.updatedAt,
      ],
    );
    return s;
  }

  async get(scheduleId: string): Promise<ScheduleRecord | null> {
    const { rows } = await this.db.query('SELECT * FROM schedules WHERE schedule_id = $1', [scheduleId]);
    return rows[0] ? scheduleFromRow(rows[0]) : null;
  }

  /** Every schedule (of one definition when given), oldest first. */
  async list(definitionId?: string): Promise<ScheduleRecord[]> {
    const { rows } =
      definitionId === undefined
        ? await this.db.query('SELECT * FROM schedules ORDER BY created_at, schedule_id')
        : await this.db.query(
            'SELECT * FROM schedules WHERE definition_id = $1 ORDER BY created_at, schedule_id',
            [definitionId],
          );
    return rows.map(scheduleFromRow);
  }

  /** Replaces the editable fields (and `last_tick`); null when the schedule is gone. */
  async update(s: ScheduleRecord): Promise<ScheduleRecord | null> {
    const { rows } = await this.db.query(
      `UPDATE schedules SET cron = $2, timezone = $3, concurrency = $4, starting_deadline_seconds = $5,
         catch_up = $6, paused = $7, last_tick = $8, updated_at = $9
       WHERE schedule_id = $1 RETURNING *`,
      [
        s.scheduleId,
        s.cron,
        s.timezone,
        s.concurrency,
        s.startingDeadlineSeconds,
        s.catchUp,
        s.paused,
        s.lastTick,
        s.updatedAt,
      ],
    );
    return rows[0] ? scheduleFromRow(rows[0]) : null;
  }

  async delete(scheduleId: string): Promise<boolean> {
    const { rows } = await this.db.query(
      'DELETE FROM schedules WHERE schedule_id = $1 RETURNING schedule_id',
      [scheduleId],
    );
    await this.db.query('DELETE FROM schedule_fires WHERE schedule_id = $1', [scheduleId]);
    return rows.length > 0;
  }

  /** Moves `last_tick` forward (never back). */
  async advance(scheduleId: string, tick: number): Promise<void> {
    await this.db.query('UPDATE schedules SET last_tick = $2 WHERE schedule_id = $1 AND last_tick < $2', [
      scheduleId,
      tick,
    ]);
  }

  /**
   * Claims a tick: records it before anything fires. Answers null when it is new (the caller
   * fires it), or the fire recorded earlier (by another replica, or before a crash).
   */
  async claim(scheduleId: string, tick: number, now: number): Promise<FireRecord | null> {
    const { rows } = await this.db.query(
      `INSERT INTO schedule_fires (schedule_id, tick, at) VALUES ($1, $2, $3)
       ON CONFLICT (schedule_id, tick) DO NOTHING RETURNING tick`,
      [scheduleId, tick, now],
    );
    if (rows.length > 0) return null;
    const found = await this.db.query('SELECT * FROM schedule_fires WHERE schedule_id = $1 AND tick = $2', [
      scheduleId,
      tick,
    ]);
    return fireFromRow(found.rows[0]!);
  }

  /** Records what a claimed tick did. */
  async settle(
    scheduleId: string,
    tick: number,
    outcome: { runId: string } | { skipped: string },
  ): Promise<void> {
    await this.db.query(
      'UPDATE schedule_fires SET run_id = $3, skipped_reason = $4 WHERE schedule_id = $1 AND tick = $2',
      [
        scheduleId,
        tick,
        'runId' in outcome ? outcome.runId : null,
        'skipped' in outcome ? outcome.skipped : null,
      ],
    );
  }

  /** Records a skipped tick (idempotent). */
  async skip(scheduleId: string, tick: number, reason: string, now: number): Promise<void> {
    await this.db.query(
      `INSERT INTO schedule_fires (schedule_id, tick, skipped_reason, at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (schedule_id, tick) DO NOTHING`,
      [scheduleId, tick, reason, now],
    );
  }

  /** The schedule's latest run before `tick`, with its status; null when it started none. */
  async previousRun(scheduleId: string, tick: number): Promise<{ runId: string; status: string } | null> {
    const { rows } = await this.db.query<{ run_id: string; status: string }>(
      `SELECT f.run_id, r.status FROM schedule_fires f JOIN runs r ON r.run_id = f.run_id
        WHERE f.schedule_id = $1 AND f.tick < $2 AND f.run_id IS NOT NULL ORDER BY f.tick DESC LIMIT 1`,
      [scheduleId, tick],
    );
    return rows[0] ? { runId: rows[0].run_id, status: rows[0].status } : null;
  }

  /** The run whose idempotence key is `key`, if any. */
  async runByKey(key: string): Promise<string | null> {
    const { rows } = await this.db.query<{ run_id: string }>(
      'SELECT run_id FROM runs WHERE idempotence_key = $1',
      [key],
    );
    return rows[0]?.run_id ?? null;
  }

  /** The last `limit` ticks of a schedule, newest first. */
  async fires(scheduleId: string, limit: number): Promise<FireRecord[]> {
    const { rows } = await this.db.query(
      'SELECT * FROM schedule_fires WHERE schedule_id = $1 ORDER BY tick DESC LIMIT $2',
      [scheduleId, limit],
    );
    return rows.map(fireFromRow);
  }
}
