import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/config.js';
import { RetentionPruner } from '../retention/pruner.js';
import type { RunController } from '../runs/controller.js';
import type { RunFeed } from '../runs/feed.js';
import { sqlOf } from '../store/sql-of.js';
import type { Store } from '../store/store.js';
import { WebhookDeliverer } from '../webhooks/deliverer.js';
import { WebhookStore } from '../webhooks/webhooks-sql.js';
import { Scheduler } from './scheduler.js';
import { ScheduleStore } from './schedules-sql.js';

/** The leader's background work of issue 16: schedules, retention, webhook deliveries. */
export interface Automation {
  scheduler: Scheduler;
  pruner: RetentionPruner;
  deliverer: WebhookDeliverer;
  close(): Promise<void>;
}

/** Starts the scheduler, the retention pruner and the webhook deliverer (each acts only while this replica leads). */
export function startAutomation(o: {
  store: Store;
  runs: RunController;
  feed: RunFeed;
  clock: Clock;
  newId: () => string;
  config: Config;
  logger: Logger;
}): Automation {
  const sql = sqlOf(o.store);
  const isLeader = () => o.runs.leadership.isLeader();
  const scheduler = new Scheduler({
    schedules: new ScheduleStore(sql),
    store: o.store,
    runs: o.runs,
    feed: o.feed,
    clock: o.clock,
    newId: o.newId,
    defaultCluster: o.config.cluster,
    serverMode: o.config.serverMode,
    logger: o.logger.child({ component: 'schedules' }),
  });
  const pruner = new RetentionPruner({
    sql,
    defaultDays: o.config.retentionDays,
    dataDir: o.config.dataDir,
    clock: o.clock,
    logger: o.logger.child({ component: 'retention' }),
    isLeader,
  });
  const deliverer = new WebhookDeliverer({
    webhooks: new WebhookStore(sql),
    clock: o.clock,
    logger: o.logger.child({ component: 'webhooks' }),
    isLeader,
  });
  // A status change stored here may be in the outbox: look soon (other writers are polled).
  const unsubscribe = o.feed.subscribe(() => deliverer.changed());
  scheduler.start();
  pruner.start();
  deliverer.start();
  return {
    scheduler,
    pruner,
    deliverer,
    async close() {
      unsubscribe();
      await Promise.all([scheduler.close(), pruner.close(), deliverer.close()]);
    },
  };
}
