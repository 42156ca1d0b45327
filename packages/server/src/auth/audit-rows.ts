// The audit log's rows: what an entry holds, the entry of a request, and the multi-row insert of
// entries (its own statement, or a CTE of a store write that carries them). Apart from the audit
// log itself so the store can import it.
import type { FastifyRequest } from 'fastify';
import { type Column, columnNames, unnestItems } from '../store/multi-row.js';

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

/** An entry to store (its id is the store's). */
export type NewAuditEntry = Omit<AuditEntry, 'auditId'>;

/** The entry of a request answered with `status` at `at`. */
export function auditEntryOf(
  req: Pick<FastifyRequest, 'method' | 'url' | 'params' | 'ip' | 'routeOptions' | 'principal'>,
  status: number,
  at: number,
): NewAuditEntry {
  const path = (req.url.split('?')[0] ?? '/').slice(0, 1024);
  return {
    at,
    subject: req.principal?.subject ?? null,
    method: req.method,
    route: req.routeOptions.url ?? path,
    path,
    ids: (req.params ?? {}) as Record<string, string>,
    ip: req.ip,
    status,
  };
}

/** The audit table's columns of a multi-row insert. */
const COLUMNS: readonly Column<NewAuditEntry>[] = [
  ['at', 'bigint', (e) => e.at],
  ['subject', 'text', (e) => e.subject],
  ['method', 'text', (e) => e.method],
  ['route', 'text', (e) => e.route],
  ['path', 'text', (e) => e.path],
  ['ids', 'jsonb', (e) => JSON.stringify(e.ids)],
  ['ip', 'text', (e) => e.ip],
  ['status', 'integer', (e) => e.status],
];

/**
 * `INSERT INTO audit_log … ` of `entries` in one statement (or as a CTE of another: a store write
 * that carries the entries of the requests it serves, so each is stored with its change).
 */
export function insertAuditSql(entries: readonly NewAuditEntry[], params: unknown[]): string {
  const from = unnestItems('e', COLUMNS, entries, params);
  const names = columnNames(COLUMNS).join(', ');
  return `INSERT INTO audit_log (${names}) SELECT ${names} FROM ${from} ORDER BY ord`;
}
