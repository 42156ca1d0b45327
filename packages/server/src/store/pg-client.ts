import pg from 'pg';
import { type SqlClient, type SqlQuerier, type SqlResult, toSqlError } from './sql-client.js';

// int8 (bigint, bigserial) as JS numbers: every Galley bigint is milliseconds or a counter,
// far below 2^53. Set per pool (not on the global pg.types) so other users of pg are unaffected.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** Options for the PostgreSQL adapter. `max` is the pool size (default 10). */
export interface PgClientOptions {
  url: string;
  max?: number;
  /** Called for errors of idle pooled connections (the pool replaces them; never fatal). */
  onIdleError?: (err: Error) => void;
  /**
   * PostgreSQL ends a session that stays this long inside a transaction without sending anything
   * (its locks go with it): a replica paused mid-transaction (SIGSTOP, a long GC) must not hold
   * the lease row, or runs, locked from the others. Unset = PostgreSQL's setting.
   */
  idleInTransactionMs?: number;
}

/** A SqlClient over a `pg` Pool. Connection errors surface as rejected queries, never exits. */
export function createPgClient(options: PgClientOptions): SqlClient {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    types,
    ...(options.idleInTransactionMs !== undefined
      ? { idle_in_transaction_session_timeout: options.idleInTransactionMs }
      : {}),
  });
  pool.on('error', (err) => options.onIdleError?.(err));
  const run = async <R>(q: pg.Pool | pg.PoolClient, text: string, params?: readonly unknown[]) => {
    try {
      const result = await q.query(text, params as unknown[] | undefined);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 } satisfies SqlResult<R>;
    } catch (err) {
      throw toSqlError(err);
    }
  };
  return {
    kind: 'postgres',
    query: (text, params) => run(pool, text, params),
    async exec(script) {
      await run(pool, script);
    },
    async transaction(fn) {
      const conn = await pool.connect().catch((err: unknown) => {
        throw toSqlError(err);
      });
      const tx: SqlQuerier = {
        query: (text, params) => run(conn, text, params),
        exec: async (script) => void (await run(conn, script)),
      };
      try {
        await conn.query('BEGIN');
        const value = await fn(tx);
        await conn.query('COMMIT');
        return value;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        throw toSqlError(err);
      } finally {
        conn.release();
      }
    },
    close: () => pool.end(),
  };
}
