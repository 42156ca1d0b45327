import type { Recommendation } from '@galley/core';
import type { SqlClient } from '../store/sql-client.js';

/**
 * The autoscaler's records in the store: decisions (the last `keep` per pipeline) and the
 * recommendations of the stabilization windows (so a new leader resumes them).
 */

/** One decision as recorded. */
export interface DecisionRecord {
  pipelineId: string;
  at: number;
  metric: number | null;
  error: string | null;
  current: number;
  desired: number;
  reason: string;
}

/** Decisions kept per pipeline. */
export const DECISIONS_KEPT = 100;

/** Longest recorded reason or error. */
const TEXT_MAX = 2000;
const cut = (s: string): string => (s.length > TEXT_MAX ? `${s.slice(0, TEXT_MAX - 1)}…` : s);

export class AutoscalingRecords {
  constructor(
    private readonly db: SqlClient,
    private readonly keep = DECISIONS_KEPT,
  ) {}

  /** Records a decision and the window's recommendations; drops the pipeline's decisions beyond `keep`. */
  async record(d: DecisionRecord, recommendations: readonly Recommendation[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO autoscaling_decisions (pipeline_id, at, metric, error, current, desired, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          d.pipelineId,
          d.at,
          d.metric,
          d.error === null ? null : cut(d.error),
          d.current,
          d.desired,
          cut(d.reason),
        ],
      );
      await tx.query(
        `DELETE FROM autoscaling_decisions WHERE pipeline_id = $1 AND seq <= (
           SELECT seq FROM autoscaling_decisions WHERE pipeline_id = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)`,
        [d.pipelineId, this.keep],
      );
      await tx.query(
        `INSERT INTO autoscaling_state (pipeline_id, recommendations, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (pipeline_id) DO UPDATE SET recommendations = $2, updated_at = $3`,
        [d.pipelineId, JSON.stringify(recommendations), d.at],
      );
    });
  }

  /** The pipeline's last decisions, newest first. */
  async decisions(pipelineId: string, limit = this.keep): Promise<DecisionRecord[]> {
    const { rows } = await this.db.query<Record<string, unknown>>(
      `SELECT pipeline_id, at, metric, error, current, desired, reason FROM autoscaling_decisions
       WHERE pipeline_id = $1 ORDER BY seq DESC LIMIT $2`,
      [pipelineId, limit],
    );
    return rows.map((r) => ({
      pipelineId: String(r['pipeline_id']),
      at: Number(r['at']),
      metric: r['metric'] === null ? null : Number(r['metric']),
      error: r['error'] === null ? null : String(r['error']),
      current: Number(r['current']),
      desired: Number(r['desired']),
      reason: String(r['reason']),
    }));
  }

  /** The recommendations kept for a pipeline's windows ([] when none). */
  async recommendations(pipelineId: string): Promise<Recommendation[]> {
    const { rows } = await this.db.query<{ recommendations: unknown }>(
      'SELECT recommendations FROM autoscaling_state WHERE pipeline_id = $1',
      [pipelineId],
    );
    const raw = rows[0]?.recommendations;
    const list = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
    return Array.isArray(list) ? (list as Recommendation[]) : [];
  }

  /** Forgets a pipeline that is gone. */
  async forget(pipelineId: string): Promise<void> {
    await this.db.query('DELETE FROM autoscaling_decisions WHERE pipeline_id = $1', [pipelineId]);
    await this.db.query('DELETE FROM autoscaling_state WHERE pipeline_id = $1', [pipelineId]);
  }

  /** QUEUED runs of a definition (id or alias) or of a group. */
  async queuedRuns(filter: { definition?: string; group?: string }): Promise<number> {
    const { rows } =
      filter.definition !== undefined
        ? await this.db.query<{ n: unknown }>(
            `SELECT count(*) AS n FROM runs WHERE status = 'QUEUED' AND (definition_id = $1 OR alias = $1)`,
            [filter.definition],
          )
        : await this.db.query<{ n: unknown }>(
            `SELECT count(*) AS n FROM runs WHERE status = 'QUEUED' AND group_name = $1`,
            [filter.group ?? ''],
          );
    return Number(rows[0]?.n ?? 0);
  }
}
