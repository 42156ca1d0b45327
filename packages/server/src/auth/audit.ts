import type { SqlClient } from '../store/sql-client.js';

/** One mutating request, as the audit log keeps it. */
export interface AuditEntry {
  auditId: number;
  at: number;
  /** Who: the principal's subject; null when the request had no valid credentials. */
  subject: string | null;
  method: string;
  /** The route's pattern (`/api/v1/history/:run_id/stop`); the path itself when no route matched. */
  route: string;
  path: string;
  /** The route's path parameters (the ids it acted on). */
  ids: Record<string, string>;
  /** From where: the client's address. */
  ip: string;
  status: number;
}

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

/** The audit log in the store: written after each mutating request, read by admins. */
export class AuditLog {
  constructor(private readonly db: SqlClient) {}

  async write(entry: Omit<AuditEntry, 'auditId'>): Promise<void> {
    await this.db.query(
      'INSERT INTO audit_log (at, subject, method, route, path, ids, ip, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [
        entry.at,
        entry.subject,
        entry.method,
        entry.route,
        entry.path,
        JSON.stringify(entry.ids),
        entry.ip,
        entry.status,
      ],
    );
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
