import type { SqlClient } from '../store/sql-client.js';
import { type AuditEntry, insertAuditSql, type NewAuditEntry } from './audit-rows.js';

export type { AuditEntry } from './audit-rows.js';

/** Filters of the audit list; every given one must match. */
export interface AuditQuery {
  subject?: string;
  method?: string;
  status?: number;
  /** Entries at or after this time (ms). */
  since?: number;
  /** Entries before this time (ms). */
  until?: number;
  limit: number;
  offset: number;
}

type Row = Record<string, unknown>;

function entryFromRow(r: Row): AuditEntry {
  const ids = typeof r['ids'] === 'string' ? (JSON.parse(r['ids']) as unknown) : r['ids'];
  return {
    auditId: Number(r['audit_id']),
    at: Number(r['at']),
    subject: r['subject'] === null ? null : String(r['subject']),
    method: String(r['method']),
    route: String(r['route']),
    path: String(r['path']),
    ids: (ids ?? {}) as Record<string, string>,
    ip: String(r['ip']),
    status: Number(r['status']),
  };
}

/** Most entries one insert carries. */
const MAX_BATCH = 500;

/**
 * The audit log in the store: written after each mutating request (an execute's entry goes in
 * with its run instead, see insertRuns), read by admins. Writes are
 * group-committed (as run inserts are): entries that arrive while an insert is in flight go
 * together in the next one, so a busy server adds one statement per batch, not per request.
 */
export class AuditLog {
  private queue: { entry: NewAuditEntry; done: (err?: unknown) => void }[] = [];
  private flushing = false;

  constructor(private readonly db: SqlClient) {}

  /** Resolves once the entry is stored. */
  write(entry: NewAuditEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.flushing) {
        this.flushing = true;
        queueMicrotask(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const params: unknown[] = [];
      const sql = insertAuditSql(
        batch.map((b) => b.entry),
        params,
      );
      try {
        await this.db.query(sql, params);
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.done(err);
      }
    }
    this.flushing = false;
  }

  /** Entries matching `q`, newest first, with the total that matched. */
  async list(q: AuditQuery): Promise<{ total: number; items: AuditEntry[] }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.subject !== undefined) add('subject = ?', q.subject);
    if (q.method !== undefined) add('method = ?', q.method);
    if (q.status !== undefined) add('status = ?', q.status);
    if (q.since !== undefined) add('at >= ?', q.since);
    if (q.until !== undefined) add('at < ?', q.until);
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const n = params.length;
    const [{ rows }, count] = await Promise.all([
      this.db.query(
        `SELECT * FROM audit_log ${filter} ORDER BY audit_id DESC LIMIT $${n + 1} OFFSET $${n + 2}`,
        [...params, q.limit, q.offset],
      ),
      this.db.query<{ n: unknown }>(`SELECT count(*) AS n FROM audit_log ${filter}`, params),
    ]);
    return { total: Number(count.rows[0]?.n ?? 0), items: rows.map(entryFromRow) };
  }
}
