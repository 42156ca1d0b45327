import pg from 'pg';
import * as leases from './leases-sql.js';
import { type SqlQuerier, toSqlError } from './sql-client.js';
import type { AcquireOptions } from './store.js';

/**
 * The leases of one replica on PostgreSQL, taken over a connection of their own (not the pool):
 * the lease records that session, so when the replica's process dies — and PostgreSQL ends its
 * session — another replica may take the lease at once instead of waiting for it to expire. The
 * replica must therefore treat the end of this connection as the loss of its leases (`onLost`):
 * others may already hold them.
 */
export interface LeaseSession {
  acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    now: number,
    options?: AcquireOptions,
  ): Promise<number | null>;
  releaseLease(name: string, holder: string, epoch: number): Promise<void>;
  close(): Promise<void>;
}

export interface LeaseSessionOptions {
  url: string;
  /** A statement that takes longer fails (and ends the session): a lease is short. */
  queryTimeoutMs: number;
  /** The session ended (connection lost, or a statement failed or timed out): leases held are lost. */
  onLost: (err: Error) => void;
}

/** Opens lease sessions on demand: the first statement connects, one lost is replaced by the next. */
export function openLeaseSession(options: LeaseSessionOptions): LeaseSession {
  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  let closed = false;

  const lose = (c: pg.Client, err: Error) => {
    if (client !== c) return;
    client = null;
    c.end().catch(() => undefined);
    if (!closed) options.onLost(err);
  };
  const connect = (): Promise<pg.Client> => {
    if (client) return Promise.resolve(client);
    if (connecting) return connecting;
    const c = new pg.Client({
      connectionString: options.url,
      connectionTimeoutMillis: options.queryTimeoutMs,
      query_timeout: options.queryTimeoutMs,
      application_name: 'galley-lease',
    });
    c.on('error', (err) => lose(c, err));
    c.on('end', () => lose(c, new Error('the lease session ended')));
    connecting = c
      .connect()
      .then(() => {
        client = c;
        return c;
      })
      .finally(() => {
        connecting = null;
      });
    return connecting;
  };
  const querier = async (): Promise<SqlQuerier> => {
    if (closed) throw new Error('the lease session is closed');
    const c = await connect();
    const run = async <R>(text: string, params?: readonly unknown[]) => {
      try {
        const result = await c.query(text, params as unknown[] | undefined);
        return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
      } catch (err) {
        // A failed or timed-out statement leaves the session in doubt: end it (its leases are lost).
        lose(c, err as Error);
        throw toSqlError(err);
      }
    };
    return { query: run, exec: async (script) => void (await run(script)) };
  };
  return {
    async acquireLease(name, holder, ttlMs, now, acquire) {
      return leases.acquireLease(await querier(), { name, holder, ttlMs, now, bindSession: true }, acquire);
    },
    async releaseLease(name, holder, epoch) {
      await leases.releaseLease(await querier(), name, holder, epoch);
    },
    async close() {
      closed = true;
      const c = client ?? (connecting ? await connecting.catch(() => null) : null);
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
