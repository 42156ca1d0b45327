import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ReplicaRecord, ReplicaRepository } from '../store/store.js';

/** How often a replica says it lives. */
export const REPLICA_HEARTBEAT_MS = 1_000;
/** A replica not heard of for this long is gone (its host's local runs have no one to read them). */
export const REPLICA_GONE_MS = 5 * REPLICA_HEARTBEAT_MS;

export interface ReplicaRegistryOptions {
  store: ReplicaRepository;
  replicaId: string;
  /** This machine's host name: where its local runs ran. */
  host: string;
  clock: Clock;
  logger: Logger;
}

/**
 * This replica's row in `replicas`: its host and HTTP address, refreshed every
 * REPLICA_HEARTBEAT_MS, removed at a clean stop. Other replicas find it there to proxy the logs of
 * the local runs of its host.
 */
export class ReplicaRegistry {
  private url: string | null = null;
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly o: ReplicaRegistryOptions) {
    this.startedAt = o.clock.now();
  }

  /** Says this replica lives, now and every heartbeat. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch((err: unknown) =>
        this.o.logger.warn({ err }, 'replicas: the heartbeat could not be stored'),
      );
    }, REPLICA_HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Records the address this replica listens on. */
  async listening(url: string): Promise<void> {
    this.url = url;
    await this.beat();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.o.store.removeReplica(this.o.replicaId).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    const now = this.o.clock.now();
    await this.o.store.saveReplica({
      replicaId: this.o.replicaId,
      host: this.o.host,
      url: this.url,
      startedAt: this.startedAt,
      seenAt: now,
    });
  }
}

/** The live replicas (heard of within REPLICA_GONE_MS). */
export function liveReplicas(store: ReplicaRepository, now: number): Promise<ReplicaRecord[]> {
  return store.listReplicas(now - REPLICA_GONE_MS);
}
