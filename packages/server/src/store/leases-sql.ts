import type { SqlQuerier } from './sql-client.js';
import {
  type AcquireOptions,
  type Fence,
  type LeaseRecord,
  type ReplicaRecord,
  StaleEpochError,
} from './store.js';

// Leases (leader election with fencing epochs), their history, and the replicas' addresses.

const num = (v: unknown) => Number(v);

/**
 * Takes or renews a lease (see LeaseRepository.acquireLease). With `bindSession` the lease records
 * the PostgreSQL session running the statement (a dedicated connection: see lease-session.ts);
 * another replica may then take it as soon as that session is gone (the holder's process died),
 * without waiting for the expiry. Every new epoch is also written to `lease_history`.
 */
export async function acquireLease(
  db: SqlQuerier,
  args: { name: string; holder: string; ttlMs: number; now: number; bindSession: boolean },
  options: AcquireOptions = {},
): Promise<number | null> {
  const session = args.bindSession
    ? `pg_backend_pid(), (SELECT extract(epoch FROM backend_start)::float8 FROM pg_stat_activity WHERE pid = pg_backend_pid())`
    : 'NULL::integer, NULL::float8';
  // Kept (same epoch): a renewal, or (unless fresh) the holder taking again what it holds.
  const keep = `($5::bigint IS NOT NULL OR (NOT $6::boolean AND l.holder = $2 AND l.expires_at > $4))`;
  const { rows } = await db.query<{ epoch: unknown; since: unknown }>(
    `WITH dead AS (
       SELECT l.session_pid IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM pg_stat_activity a
         WHERE a.pid = l.session_pid AND extract(epoch FROM a.backend_start)::float8 = l.session_start
       ) AS gone
       FROM leases l WHERE l.name = $1),
     taken AS (
       INSERT INTO leases AS l (name, holder, epoch, expires_at, since, session_pid, session_start)
       VALUES ($1, $2, 1, $3, $4, ${session})
       ON CONFLICT (name) DO UPDATE
         SET epoch = CASE WHEN ${keep} THEN l.epoch ELSE l.epoch + 1 END,
             since = CASE WHEN ${keep} THEN l.since ELSE $4 END,
             holder = $2, expires_at = $3,
             session_pid = EXCLUDED.session_pid, session_start = EXCLUDED.session_start
         WHERE CASE WHEN $5::bigint IS NOT NULL THEN l.holder = $2 AND l.epoch = $5
               ELSE l.holder = $2 OR l.expires_at <= $4 OR COALESCE((SELECT gone FROM dead), false) END
       RETURNING epoch, since, holder),
     history AS (
       INSERT INTO lease_history (name, epoch, holder, acquired_at)
       SELECT $1, epoch, holder, since FROM taken WHERE since = $4
       ON CONFLICT DO NOTHING)
     SELECT epoch, since FROM taken`,
    [args.name, args.holder, args.now + args.ttlMs, args.now, options.renew ?? null, options.fresh === true],
  );
  return rows[0] ? num(rows[0].epoch) : null;
}

/** Expires the lease now if `holder` still has it in `epoch`. */
export async function releaseLease(
  db: SqlQuerier,
  name: string,
  holder: string,
  epoch: number,
): Promise<void> {
  await db.query(
    `UPDATE leases SET expires_at = 0, session_pid = NULL, session_start = NULL
     WHERE name = $1 AND holder = $2 AND epoch = $3`,
    [name, holder, epoch],
  );
}

export async function getLease(db: SqlQuerier, name: string): Promise<LeaseRecord | null> {
  const { rows } = await db.query<Record<string, unknown>>(
    'SELECT name, holder, epoch, since, expires_at FROM leases WHERE name = $1',
    [name],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    name: String(r['name']),
    holder: String(r['holder']),
    epoch: num(r['epoch']),
    since: num(r['since']),
    expiresAt: num(r['expires_at']),
  };
}

export async function leaseHistory(
  db: SqlQuerier,
  name: string,
): Promise<{ epoch: number; holder: string; acquiredAt: number }[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    'SELECT epoch, holder, acquired_at FROM lease_history WHERE name = $1 ORDER BY epoch',
    [name],
  );
  return rows.map((r) => ({
    epoch: num(r['epoch']),
    holder: String(r['holder']),
    acquiredAt: num(r['acquired_at']),
  }));
}

/**
 * The fence of a transaction: locks the lease row (FOR SHARE, so a replica taking the lease waits
 * until this transaction ends) and throws StaleEpochError unless it still has the fence's epoch.
 * Statements after it in the same transaction are therefore made under a current epoch.
 */
export async function checkFence(tx: SqlQuerier, fence: Fence): Promise<void> {
  const { rows } = await tx.query<{ epoch: unknown }>('SELECT epoch FROM leases WHERE name = $1 FOR SHARE', [
    fence.name,
  ]);
  const current = rows[0] ? num(rows[0].epoch) : null;
  if (current !== fence.epoch) throw new StaleEpochError(fence, current);
}

export async function saveReplica(db: SqlQuerier, r: ReplicaRecord): Promise<void> {
  await db.query(
    `INSERT INTO replicas (replica_id, host, url, started_at, seen_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (replica_id) DO UPDATE SET host = $2, url = $3, seen_at = $5`,
    [r.replicaId, r.host, r.url, r.startedAt, r.seenAt],
  );
}

export async function listReplicas(db: SqlQuerier, seenSince: number): Promise<ReplicaRecord[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    'SELECT * FROM replicas WHERE seen_at >= $1 ORDER BY started_at, replica_id',
    [seenSince],
  );
  return rows.map((r) => ({
    replicaId: String(r['replica_id']),
    host: String(r['host']),
    url: r['url'] === null ? null : String(r['url']),
    startedAt: num(r['started_at']),
    seenAt: num(r['seen_at']),
  }));
}

export async function removeReplica(db: SqlQuerier, replicaId: string): Promise<void> {
  await db.query('DELETE FROM replicas WHERE replica_id = $1', [replicaId]);
}
