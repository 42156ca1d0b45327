import type { Logger } from 'pino';
import type { Backend } from '../backends/backend.js';
import { MesosBackend } from '../backends/mesos/mesos-backend.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/config.js';
import type { Leadership } from '../control/leadership.js';
import { TermBackend } from '../control/term-backend.js';
import type { SqlClient } from '../store/sql-client.js';
import type { Store } from '../store/store.js';
import { AwsAsgProvider } from './aws-asg.js';
import {
  CapacityConfigError,
  loadCapacityConfig,
  type CapacitySettings,
  type RoleCapacity,
} from './config.js';
import type { RunController } from '../runs/controller.js';
import { CapacityLoop, type FrameworkView, type QueuedDemand } from './loop.js';
import { DryRunProvider, type CapacityProvider } from './provider.js';
import { CapacityRecords, type CapacityDecisionRecord } from './records.js';

/**
 * Cluster capacity per Mesos role: one `CapacityLoop` per Mesos cluster that has roles in the
 * capacity config (`--capacity-config`), run by the leader, and what the capacity API answers
 * (on every replica: the leader's last look, else the records in the store).
 */

/** Queued runs read per pass (the demand of a backlog larger than this is counted as this much). */
const QUEUED_READ = 5_000;
/** Decisions answered per role. */
export const DECISIONS_SHOWN = 20;

/** The capacity of one role, as `GET /api/v1/clusters/{name}/capacity` answers it. */
export interface RoleCapacityAnswer {
  role: string;
  provider: string;
  group: string;
  min: number;
  max: number;
  node: { cpus: number; mem: number };
  cooldown_seconds: number;
  /** The group's desired capacity as last read; null before the first look. */
  current_nodes: number | null;
  /** What the last decision asked for; null before the first one. */
  desired_nodes: number | null;
  /** The nodes the demand needs, unclamped. */
  needed_nodes: number | null;
  demand: {
    running: { cpus: number; mem: number };
    queued: { cpus: number; mem: number; runs: number };
  } | null;
  agents: Array<{
    agent_id: string;
    hostname: string;
    instance_id: string | null;
    tasks: number;
    draining: boolean;
  }>;
  draining: Array<{ agent_id: string; hostname: string; instance_id: string; phase: string; since: number }>;
  last_scale_down_at: number | null;
  /** Newest first. */
  decisions: Array<{ at: number; action: string; current: number; desired: number; reason: string }>;
  /** The last look's error (a provider or master call that failed), if it failed. */
  error: string | null;
  observed_at: number | null;
}

export class CapacityService {
  private readonly loops = new Map<string, CapacityLoop>();
  private readonly dryRun: DryRunProvider;
  private aws: AwsAsgProvider | null = null;

  constructor(
    private readonly settings: CapacitySettings,
    private readonly records: CapacityRecords,
    o: {
      file: string;
      config: Config;
      backends: readonly Backend[];
      store: Store;
      runs?: Pick<RunController, 'waitingLaunchDemand'>;
      leadership: Leadership;
      clock: Clock;
      logger: Logger;
    },
  ) {
    this.dryRun = new DryRunProvider(() => o.clock.now());
    const byCluster = new Map<string, RoleCapacity[]>();
    for (const r of settings.roles) byCluster.set(r.cluster, [...(byCluster.get(r.cluster) ?? []), r]);
    for (const [cluster, roles] of byCluster) {
      const backend = o.backends.find((b) => b.cluster === cluster && b.kind === 'mesos');
      if (!backend)
        throw new CapacityConfigError(o.file, [
          `roles.${roles[0]!.role}.cluster: ${cluster} is not a Mesos cluster of this server`,
        ]);
      this.loops.set(
        cluster,
        new CapacityLoop({
          cluster,
          roles,
          intervalMs: settings.intervalMs,
          view: () => frameworkViewOf(backend),
          queued: () => queuedDemand(cluster, backend.defaultRole ?? backend.roles?.[0] ?? '*', o),
          provider: (role) => this.providerOf(role),
          records,
          leadership: o.leadership,
          clock: o.clock,
          logger: o.logger.child({ component: 'capacity', cluster }),
        }),
      );
    }
  }

  start(): void {
    for (const loop of this.loops.values()) loop.start();
  }

  async close(): Promise<void> {
    await Promise.all([...this.loops.values()].map((l) => l.close()));
    this.aws?.close();
  }

  /** The loop of a cluster (tests drive passes with `runOnce`). */
  loop(cluster: string): CapacityLoop | undefined {
    return this.loops.get(cluster);
  }

  /** What the dry-run provider would have done, newest last. */
  dryRunActions(): DryRunProvider['actions'] {
    return this.dryRun.actions;
  }

  /** True when the cluster has configured roles. */
  has(cluster: string): boolean {
    return this.loops.has(cluster);
  }

  /** The capacity per role of a cluster (null = the cluster has no capacity config). */
  async capacity(cluster: string, decisions = DECISIONS_SHOWN): Promise<RoleCapacityAnswer[] | null> {
    const loop = this.loops.get(cluster);
    if (!loop) return null;
    return Promise.all(loop.roles().map((role) => this.roleAnswer(loop, role, decisions)));
  }

  private async roleAnswer(
    loop: CapacityLoop,
    role: RoleCapacity,
    shown: number,
  ): Promise<RoleCapacityAnswer> {
    const [decisions, state] = await Promise.all([
      this.records.decisions(loop.cluster, role.role, shown),
      this.records.state(loop.cluster, role.role),
    ]);
    const view = loop.view(role.role);
    const input = view?.input ?? lastInput(decisions);
    return {
      role: role.role,
      provider: role.provider,
      group: role.group,
      min: role.min,
      max: role.max,
      node: { cpus: role.node.cpus, mem: role.node.memMb },
      cooldown_seconds: role.cooldownMs / 1000,
      current_nodes: view?.group?.desired ?? input?.desired ?? null,
      desired_nodes: view?.decision?.desired ?? decisions[0]?.desired ?? null,
      needed_nodes: view?.decision?.needed ?? null,
      demand: input
        ? {
            running: { cpus: input.running.cpus, mem: input.running.memMb },
            queued: { cpus: input.queued.cpus, mem: input.queued.memMb, runs: input.queued.count },
          }
        : null,
      agents: (view?.agents ?? input?.agents ?? []).slice(0, 200).map((a) => ({
        agent_id: a.agentId,
        hostname: a.hostname,
        instance_id: 'instanceId' in a ? (a.instanceId as string | null) : null,
        tasks: a.tasks,
        draining: state.drain?.agentId === a.agentId,
      })),
      draining: state.drain
        ? [
            {
              agent_id: state.drain.agentId,
              hostname: state.drain.hostname,
              instance_id: state.drain.instanceId,
              phase: state.drain.phase,
              since: state.drain.startedAt,
            },
          ]
        : [],
      last_scale_down_at: state.lastScaleDownAt,
      decisions: decisions.map((d) => ({
        at: d.at,
        action: d.action,
        current: d.current,
        desired: d.desired,
        reason: d.reason,
      })),
      error: view?.error ?? null,
      observed_at: view?.at ?? null,
    };
  }

  private providerOf(role: RoleCapacity): CapacityProvider {
    if (role.provider === 'dry-run') return this.dryRun;
    this.aws ??= new AwsAsgProvider(this.settings.aws!);
    return this.aws;
  }
}

/**
 * What waits for a cluster's offers, by role: its queued runs (the first QUEUED_READ in queue
 * order; a run without a role has the cluster's default role) and the pipeline launches waiting
 * for placement (the run controller's view).
 */
async function queuedDemand(
  cluster: string,
  defaultRole: string,
  o: { store: Store; runs?: Pick<RunController, 'waitingLaunchDemand'> },
): Promise<Map<string, QueuedDemand>> {
  const out = new Map<string, QueuedDemand>(o.runs?.waitingLaunchDemand(cluster) ?? []);
  for (const r of await o.store.queuedRuns([cluster], QUEUED_READ)) {
    const role = r.placement?.role ?? defaultRole;
    const sum = out.get(role) ?? { cpus: 0, memMb: 0, count: 0 };
    out.set(role, { cpus: sum.cpus + r.cpu / 1000, memMb: sum.memMb + r.memory, count: sum.count + 1 });
  }
  return out;
}

type RecordedInput = {
  desired: number;
  running: { cpus: number; memMb: number };
  queued: { cpus: number; memMb: number; count: number };
  agents: Array<{ agentId: string; hostname: string; tasks: number }>;
};

/** The input of the newest decision that recorded one (a follower's view). */
function lastInput(decisions: readonly CapacityDecisionRecord[]): RecordedInput | null {
  for (const d of decisions) {
    const i = d.input as Partial<RecordedInput> | null;
    if (i && i.running && i.queued && Array.isArray(i.agents) && typeof i.desired === 'number')
      return i as RecordedInput;
  }
  return null;
}

/**
 * The framework of a Mesos backend (the current term's), as the loop sees it. Wrappers (the term's
 * `current`, SecretsBackend's `inner`) are looked through.
 */
function frameworkViewOf(backend: Backend): FrameworkView | null {
  let b: unknown = backend;
  for (let depth = 0; depth < 4 && b; depth++) {
    if (b instanceof MesosBackend) return b.maintenanceView();
    b = b instanceof TermBackend ? b.current : (b as { inner?: unknown }).inner;
  }
  return null;
}

/**
 * The capacity service when `--capacity-config` names a file; null otherwise. Throws a
 * CapacityConfigError (naming each field) for a file that cannot be used.
 */
export function createCapacity(o: {
  file: string | null;
  config: Config;
  backends: readonly Backend[];
  store: Store;
  runs?: Pick<RunController, 'waitingLaunchDemand'>;
  leadership: Leadership;
  clock: Clock;
  logger: Logger;
}): CapacityService | null {
  const file = o.file;
  if (!file) return null;
  const settings = loadCapacityConfig(file, o.config.cluster);
  const sql = (o.store as { sql?: SqlClient }).sql;
  return new CapacityService(settings, new CapacityRecords(sql), { ...o, file });
}
