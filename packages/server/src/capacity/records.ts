import type { SqlClient } from '../store/sql-client.js';

/**
 * The capacity loop's records: its decisions (the last `keep` per role) and each role's state
 * (the drain in flight, the last scale-down) in the store (migration 010), so a new leader
 * resumes them. Without a SQL store they are kept in memory.
 */

/** One decision or drain step as recorded. */
export interface CapacityDecisionRecord {
  cluster: string;
  role: string;
  at: number;
  action: string;
  current: number;
  desired: number;
  input: unknown;
  reason: string;
}

/** The drain of one agent, step by step. */
export interface DrainRecord {
  agentId: string;
  hostname: string;
  ip: string;
  instanceId: string;
  /** scheduled: maintenance scheduled, waiting for inverse-offer answers; down: START_MAINTENANCE done; terminated: the instance is terminated. */
  phase: 'scheduled' | 'down' | 'terminated';
  startedAt: number;
}

export interface RoleState {
  lastScaleDownAt: number | null;
  drain: DrainRecord | null;
}

export const DECISIONS_KEPT = 100;
const TEXT_MAX = 2000;
const cut = (s: string): string => (s.length > TEXT_MAX ? `${s.slice(0, TEXT_MAX - 1)}…` : s);

export class CapacityRecords {
  private readonly memory = new Map<string, CapacityDecisionRecord[]>();
  private readonly states = new Map<string, RoleState>();

  constructor(
    private readonly db: SqlClient | undefined,
    private readonly keep = DECISIONS_KEPT,
  ) {}

  async record(d: CapacityDecisionRecord): Promise<void> {
    const rec = { ...d, reason: cut(d.reason) };
    if (!this.db) {
      const key = `${d.cluster}\u0000${d.role}`;
      const list = this.memory.get(key) ?? [];
      list.unshift(rec);
      list.length = Math.min(list.length, this.keep);
      this.memory.set(key, list);
      return;
    }
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO capacity_decisions (cluster, role, at, action, current, desired, input, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          rec.cluster,
          rec.role,
          rec.at,
          rec.action,
          rec.current,
          rec.desired,
          JSON.stringify(rec.input),
          rec.reason,
        ],
      );
      await tx.query(
        `DELETE FROM capacity_decisions WHERE cluster = $1 AND role = $2 AND seq <= (
           SELECT seq FROM capacity_decisions WHERE cluster = $1 AND role = $2 ORDER BY seq DESC OFFSET $3 LIMIT 1)`,
        [rec.cluster, rec.role, this.keep],
      );
    });
  }

  /** The role's last decisions, newest first. */
  async decisions(cluster: string, role: string, limit = this.keep): Promise<CapacityDecisionRecord[]> {
    if (!this.db) return (this.memory.get(`${cluster}\u0000${role}`) ?? []).slice(0, limit);
    const { rows } = await this.db.query<Record<string, unknown>>(
      `SELECT cluster, role, at, action, current, desired, input, reason FROM capacity_decisions
       WHERE cluster = $1 AND role = $2 ORDER BY seq DESC LIMIT $3`,
      [cluster, role, limit],
    );
    return rows.map((r) => ({
      cluster: String(r.cluster),
      role: String(r.role),
      at: Number(r.at),
      action: String(r.action),
      current: Number(r.current),
      desired: Number(r.desired),
      input: typeof r.input === 'string' ? JSON.parse(r.input) : r.input,
      reason: String(r.reason),
    }));
  }

  async state(cluster: string, role: string): Promise<RoleState> {
    if (!this.db) return this.states.get(`${cluster}\u0000${role}`) ?? { lastScaleDownAt: null, drain: null };
    const { rows } = await this.db.query<Record<string, unknown>>(
      'SELECT last_scale_down_at, drain FROM capacity_state WHERE cluster = $1 AND role = $2',
      [cluster, role],
    );
    const row = rows[0];
    if (!row) return { lastScaleDownAt: null, drain: null };
    const drain = typeof row.drain === 'string' ? JSON.parse(row.drain) : row.drain;
    return {
      lastScaleDownAt: row.last_scale_down_at === null ? null : Number(row.last_scale_down_at),
      drain: (drain as DrainRecord | null) ?? null,
    };
  }

  async saveState(cluster: string, role: string, state: RoleState, now: number): Promise<void> {
    if (!this.db) {
      this.states.set(`${cluster}\u0000${role}`, { ...state });
      return;
    }
    await this.db.query(
      `INSERT INTO capacity_state (cluster, role, last_scale_down_at, drain, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (cluster, role) DO UPDATE SET last_scale_down_at = $3, drain = $4, updated_at = $5`,
      [cluster, role, state.lastScaleDownAt, state.drain === null ? null : JSON.stringify(state.drain), now],
    );
  }
}
