import { StoreError } from './store.js';

/**
 * The one seam between Galley's SQL and a database driver. Both adapters speak the same
 * PostgreSQL dialect: `pg` against a PostgreSQL server, PGlite embedded in the process.
 */
export interface SqlClient {
  /** Runs one statement with `$1…` parameters and answers its rows (empty for commands). */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
  /**
   * Runs `fn` inside one transaction: committed when it resolves, rolled back when it throws.
   * Statements inside must use the `tx` client, never the outer one.
   */
  transaction<T>(fn: (tx: SqlQuerier) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /** What this client talks to, for logs and `/clusters`: `pglite` or `postgres`. */
  readonly kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

/** The part of a client usable inside a transaction. */
export interface SqlQuerier {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
  exec(script: string): Promise<void>;
}

/** Rows of a statement, and how many rows a command touched (0 when the driver cannot tell). */
export interface SqlResult<R> {
  rows: R[];
  rowCount: number;
}

/** A database error with the PostgreSQL SQLSTATE `code` (e.g. `23505` unique violation). */
export class SqlError extends Error {
  override readonly name = 'SqlError';
  constructor(
    message: string,
    readonly code: string,
    readonly constraint: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** SQLSTATE for a unique violation. */
export const UNIQUE_VIOLATION = '23505';

/** Wraps a driver error into a SqlError (both drivers put SQLSTATE in `code`). */
export function toSqlError(err: unknown): unknown {
  // Galley's own refusals (a stale epoch inside a transaction) pass through as they are.
  if (err instanceof SqlError || err instanceof StoreError) return err;
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') {
    const constraint = 'constraint' in err && typeof err.constraint === 'string' ? err.constraint : undefined;
    return new SqlError(String((err as { message?: unknown }).message), err.code, constraint, { cause: err });
  }
  return err;
}
