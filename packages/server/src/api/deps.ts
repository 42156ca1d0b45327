import type { AuthService } from '../auth/service.js';
import type { AutoscalingRecords } from '../autoscaling/decisions.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/config.js';
import type { RunController } from '../runs/controller.js';
import type { RunFeed } from '../runs/feed.js';
import type { PipelineController } from '../pipelines/controller.js';
import type { CapacityService } from '../capacity/service.js';
import type { Store } from '../store/store.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { StreamHub } from './stream-hub.js';

/** What the routes use. Built once by `app.ts`. */
export interface ApiDeps {
  store: Store;
  runs: RunController;
  feed: RunFeed;
  /** The event stream's clients (one serialisation per change for all of them). */
  stream: StreamHub;
  /** Pipelines: creates, changes and deletes them (and says whether this replica leads). */
  pipelines: PipelineController;
  clock: Clock;
  /** A new unique id (definitions, runs). */
  newId: () => string;
  config: Config;
  /** Server start time (ms), for /health. */
  startedAt: number;
  version: string;
  /** Cluster capacity per Mesos role (`--capacity-config`); null/undefined = not configured. */
  capacity?: CapacityService | null;
  /** The autoscaler's recorded decisions (GET /pipelines/{id}/autoscaling); undefined = none recorded. */
  autoscaling?: AutoscalingRecords;
  /** Galley-stored secrets; null/undefined = not configured (the secrets API answers 409). */
  secrets?: SecretStore | null;
  /** Who a request is: API tokens, JWTs, the policy and the audit log. */
  auth: AuthService;
}

/** Options of each routes plugin: the deps, and whether its routes appear in the OpenAPI document. */
export interface RoutesOptions {
  deps: ApiDeps;
  /** False for the /api/v6 mirror, so the document lists each route once. */
  documented: boolean;
}
