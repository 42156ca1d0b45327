import type { FrameworkIdStore } from '@galley/mesos';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/config.js';
import type { AttemptRecord } from '../../model/records.js';
import { MesosBackend } from './mesos-backend.js';

/** What every Mesos backend of the server shares. */
export interface MesosBackendDeps {
  /** Where each cluster's framework id is kept. */
  frameworkIds: (cluster: string) => FrameworkIdStore;
  /** Whether this replica leads (only the leader subscribes). */
  leading: () => boolean;
  /** A stored attempt, by id. */
  attempt: (attemptId: string) => Promise<AttemptRecord | null>;
  clock: Clock;
  logger: Logger;
  random?: () => number;
}

/** One backend per configured Mesos cluster (none when the config names none). */
export function createMesosBackends(config: Config, deps: MesosBackendDeps): MesosBackend[] {
  return config.mesos.clusters.map(
    (cluster) =>
      new MesosBackend({
        cluster,
        settings: config.mesos,
        frameworkIds: deps.frameworkIds(cluster.name),
        leading: deps.leading,
        attempt: deps.attempt,
        clock: deps.clock,
        logger: deps.logger.child({ component: 'mesos', cluster: cluster.name }),
        killGraceMs: config.local.stopGraceMs,
        ...(deps.random ? { random: deps.random } : {}),
      }),
  );
}
