import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { RunFeed } from '../runs/feed.js';
import type { ChangeListener } from '../store/change-listener.js';
import type { LeaseSession } from '../store/lease-session.js';
import type { FrameworkIdRepository, Store } from '../store/store.js';
import { ChangeFollower, type ChangeFollowerOptions } from './change-follower.js';
import { type Leadership, SoleLeadership } from './leadership.js';
import { LeaseLeadership } from './lease-leadership.js';
import { ReplicaRegistry } from './replicas.js';

/**
 * What makes a server one replica among several on one PostgreSQL: its id, its leadership (a
 * lease on PostgreSQL; alone on PGlite), its row in `replicas`, and (PostgreSQL) the changes the
 * other replicas make. Built by `buildServer`.
 */
export interface ReplicaSet {
  /** This replica's id: `<host>-<pid>-<random>`. */
  readonly id: string;
  /** This machine's host name. */
  readonly host: string;
  readonly leadership: Leadership;
  /** Follows the other replicas' changes (PostgreSQL); resolves once listening. */
  follow(
    options: Omit<ChangeFollowerOptions, 'store' | 'feed' | 'logger'> & { feed: RunFeed },
  ): Promise<void>;
  /** Records the URL this replica answers on. */
  listening(url: string): Promise<void>;
  /** Framework ids kept in the store, written only under the current epoch. */
  frameworkIds: FrameworkIdRepository;
  close(): Promise<void>;
}

export interface ReplicaSetOptions {
  store: Store;
  /** PostgreSQL URL; null = the embedded store, a replica alone. */
  databaseUrl: string | null;
  leaseMs: number;
  clock: Clock;
  logger: Logger;
  /** This replica's id (default: made from the host, pid and random bytes). */
  id?: string;
}

/** A new replica id for this process. */
export function newReplicaId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** The replica set of this server (see ReplicaSet); nothing is started but the heartbeat. */
export async function joinReplicaSet(o: ReplicaSetOptions): Promise<ReplicaSet> {
  const id = o.id ?? newReplicaId();
  const host = hostname();
  const logger = o.logger.child({ component: 'replica', replica: id });
  let session: LeaseSession | null = null;
  let leadership: Leadership;
  if (o.databaseUrl) {
    // PostgreSQL's client (pg) loads only when there is a PostgreSQL: see store/open.ts.
    const { openLeaseSession } = await import('../store/lease-session.js');
    let lease: LeaseLeadership | null = null;
    session = openLeaseSession({
      url: o.databaseUrl,
      queryTimeoutMs: o.leaseMs,
      onLost: (err) => lease?.sessionLost(err),
    });
    lease = new LeaseLeadership({ leases: session, id, leaseMs: o.leaseMs, clock: o.clock, logger });
    leadership = lease;
  } else {
    leadership = new SoleLeadership(o.store, id, o.clock);
  }
  const registry = new ReplicaRegistry({ store: o.store, replicaId: id, host, clock: o.clock, logger });
  await registry.start();
  let listener: ChangeListener | null = null;
  let follower: ChangeFollower | null = null;
  return {
    id,
    host,
    leadership,
    async follow(options) {
      if (!o.databaseUrl) return;
      const f = new ChangeFollower({ ...options, store: o.store, logger });
      follower = f;
      const { listenForChanges } = await import('../store/change-listener.js');
      listener = await listenForChanges({
        url: o.databaseUrl,
        origin: id,
        onNotice: (n) => f.notice(n),
        onGap: () => f.gap(),
        onError: (err) =>
          logger.warn({ err: err.message }, 'replica: the change listener lost its connection'),
      });
    },
    listening: (url) => registry.listening(url),
    frameworkIds: {
      getFrameworkId: (cluster) => o.store.getFrameworkId(cluster),
      setFrameworkId: (cluster, frameworkId, now) =>
        o.store.setFrameworkId(cluster, frameworkId, now, leadership.fence()),
    },
    async close() {
      await listener?.close();
      await follower?.close();
      await registry.close();
      await session?.close();
    },
  };
}
