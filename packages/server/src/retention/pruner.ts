import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { SqlClient } from '../store/sql-client.js';

/** A day in ms. */
const DAY_MS = 86_400_000;

/** What the pruner works with. */
export interface PrunerOptions {
  sql: SqlClient;
  /** Days a finished run is kept when its definition says nothing; 0 = forever. */
  defaultDays: number;
  /** The server's data directory: local runs' logs are in `<dataDir>/runs/<run_id>`. */
  dataDir: string;
  clock: Clock;
  logger: Logger;
  /** Only the leader prunes. */
  isLeader: () => boolean;
  /** Runs deleted per transaction (default 500). */
  batchSize?: number;
  /** Time between passes (default 10 minutes). */
  intervalMs?: number;
}

/**
 * Retention: deletes finished (STOPPED) runs older than their time to live — their definition's
 * `retention_days`, else the server's `--retention-days` — with their attempts, timelines and local
 * log directories. On the leader only, in batches of `batchSize` per transaction, each batch a
 * short statement on the `runs_finished_at` index, yielding to the event loop between batches so
 * the API is never held up. Mesos sandboxes are the agents' (their GC removes them).
 */
export class RetentionPruner {
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: PrunerOptions) {}

  start(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.running = (this.o.isLeader() ? this.prune(this.o.clock.now()) : Promise.resolve(0))
        .catch((err: unknown) => this.o.logger.warn({ err }, 'retention: a pass failed'))
        .finally(() => this.start());
    }, this.o.intervalMs ?? 600_000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running.catch(() => undefined);
  }

  /** Deletes every run past its time to live at `now`; answers how many. */
  async prune(now: number): Promise<number> {
    const cutoff = await this.latestCutoff(now);
    if (cutoff === null) return 0;
    let total = 0;
    for (;;) {
      const ids = await this.pruneBatch(now, cutoff);
      total += ids.length;
      await Promise.all(
        ids.map((id) =>
          rm(join(this.o.dataDir, 'runs', id), { recursive: true, force: true }).catch(() => undefined),
        ),
      );
      if (ids.length < (this.o.batchSize ?? 500) || this.closed) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (total > 0)
      this.o.logger.info({ runs: total }, 'retention: pruned finished runs past their time to live');
    // Ticks of schedules that started no run go after the server's time to live, a batch at a time.
    if (this.o.defaultDays > 0)
      while (!this.closed) {
        const { rows } = await this.o.sql.query(
          `DELETE FROM schedule_fires WHERE ctid IN (
             SELECT ctid FROM schedule_fires WHERE run_id IS NULL AND at < $1 LIMIT $2) RETURNING tick`,
          [now - this.o.defaultDays * DAY_MS, this.o.batchSize ?? 500],
        );
        if (rows.length < (this.o.batchSize ?? 500)) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    await this.o.sql.query(
      `DELETE FROM webhook_outbox o WHERE NOT EXISTS (
         SELECT 1 FROM webhooks w WHERE (w.cursor_tx, w.cursor_id) < (o.tx, o.id))`,
    );
    return total;
  }

  /**
   * The newest finish time any run can have and still be pruned (the shortest time to live of the
   * server and its definitions); null when every time to live is forever.
   */
  private async latestCutoff(now: number): Promise<number | null> {
    const { rows } = await this.o.sql.query<{ days: unknown }>(
      `SELECT min((placement->>'retentionDays')::integer) AS days FROM definitions
        WHERE (placement->>'retentionDays')::integer > 0`,
    );
    const days = [this.o.defaultDays, Number(rows[0]?.days ?? 0)].filter((d) => d > 0);
    return days.length === 0 ? null : now - Math.min(...days) * DAY_MS;
  }

  /** One transaction: up to a batch of expired runs and everything of theirs. Answers their ids. */
  private async pruneBatch(now: number, cutoff: number): Promise<string[]> {
    return this.o.sql.transaction(async (tx) => {
      const { rows } = await tx.query<{ run_id: string }>(
        `SELECT r.run_id FROM runs r LEFT JOIN definitions d ON d.definition_id = r.definition_id
          WHERE r.status = 'STOPPED' AND r.finished_at < $1
            AND COALESCE((d.placement->>'retentionDays')::integer, $3) > 0
            AND r.finished_at < $2 - COALESCE((d.placement->>'retentionDays')::integer, $3)::bigint * ${DAY_MS}
          ORDER BY r.finished_at LIMIT $4`,
        [cutoff, now, this.o.defaultDays, this.o.batchSize ?? 500],
      );
      const ids = rows.map((r) => r.run_id);
      if (ids.length === 0) return ids;
      await tx.query('DELETE FROM run_events WHERE run_id = ANY($1::text[])', [ids]);
      await tx.query('DELETE FROM attempts WHERE run_id = ANY($1::text[])', [ids]);
      await tx.query('DELETE FROM schedule_fires WHERE run_id = ANY($1::text[])', [ids]);
      await tx.query("DELETE FROM runs WHERE run_id = ANY($1::text[]) AND status = 'STOPPED'", [ids]);
      return ids;
    });
  }
}
