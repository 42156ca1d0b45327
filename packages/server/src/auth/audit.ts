import { type Column, columnNames, unnestItems } from '../store/multi-row.js';
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

type NewEntry = Omit<AuditEntry, 'auditId'>;

/** The audit table's columns of a multi-row insert. */
const COLUMNS: readonly Column<NewEntry>[] = [
  ['at', 'bigint', (e) => e.at],
  ['subject', 'text', (e) => e.subject],
  ['method', 'text', (e) => e.method],
  ['route', 'text', (e) => e.route],
  ['path', 'text', (e) => e.path],
  ['ids', 'jsonb', (e) => JSON.stringify(e.ids)],
  ['ip', 'text', (e) => e.ip],
  ['status', 'integer', (e) => e.status],
];

/** Most entries one insert carries. */
const MAX_BATCH = 500;

/**
 * The audit log in the store: written after each mutating request, read by admins. Writes are
 * group-committed (as run inserts are): entries that arrive while an insert is in flight go
 * together in the next one, so a busy server adds one statement per batch, not per request.
 */
export class AuditLog {
  private queue: { entry: NewEntry; done: (err?: unknown) => void }[] = [];
  private flushing = false;

  constructor(private readonly db: SqlClient) {}

  /** Resolves once the entry is stored. */
  write(entry: NewEntry): Promise<void> {
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
      const from = unnestItems(
        'e',
        COLUMNS,
        batch.map((b) => b.entry),
        params,
      );
      const names = columnNames(COLUMNS).join(', ');
      try {
        await this.db.query(
          `INSERT INTO audit_log (${names}) SELECT ${names} FROM ${from} ORDER BY ord`,
          params,
        );
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
