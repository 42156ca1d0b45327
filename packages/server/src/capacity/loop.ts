import {
  decideClusterCapacity,
  type CapacityAgent,
  type ClusterCapacityDecision,
  type ClusterCapacityInput,
} from '@galley/core';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Leadership } from '../control/leadership.js';
import type { RoleCapacity } from './config.js';
import { instanceOfHostname, type CapacityProvider, type GroupState } from './provider.js';
import type { CapacityRecords, DrainRecord, RoleState } from './records.js';
import {
  isSameMachine as sameMachine,
  type MachineId,
  type MasterAgent,
  type MasterMaintenance,
} from '../backends/mesos/maintenance.js';
import type { MaintenanceView } from '../backends/mesos/mesos-backend.js';

/**
 * The capacity loop of one Mesos cluster, on the leader only: every interval, for each configured
 * role, it reads the master's agents, the role's provider group and the demand (queued runs of
 * the role, resources its running tasks use), asks @galley/core's `decideClusterCapacity`, records
 * input and decision, and acts:
 * - scale-up: SetDesiredCapacity;
 * - scale-down of the idle agent the decision chose, one step per pass, each step recorded:
 *   1. maintenance scheduled for its machine through the master's operator API (it goes DRAINING:
 *      its offers carry `unavailability`, nothing new is placed there, frameworks get inverse
 *      offers; Galley's framework accepts when it runs nothing there, declines otherwise);
 *   2. once Galley (and every framework asked) accepted and no task runs there, START_MAINTENANCE
 *      takes the machine DOWN (the master removes the agent);
 *   3. TerminateInstanceInAutoScalingGroup of its instance, decrementing the desired capacity;
 *   4. STOP_MAINTENANCE takes the machine out of the schedule.
 *   A decline, a task placed there, the machine leaving the schedule or the drain timeout give the
 *   drain up (the machine leaves the schedule). The drain in flight and the last scale-down are in
 *   the store, so a new leader goes on where this one was.
 * A provider or master call that fails leaves everything as it is; the record says why. The
 * dry-run provider calls nothing (neither the provider nor the master): it records what it would do.
 */

/** What waits for offers of a role. */
export interface QueuedDemand {
  cpus: number;
  memMb: number;
  count: number;
}

/** The framework as the loop sees it (MesosBackend.maintenanceView), null while no backend. */
export type FrameworkView = MaintenanceView;

export interface CapacityLoopOptions {
  cluster: string;
  roles: readonly RoleCapacity[];
  intervalMs: number;
  view: () => FrameworkView | null;
  /** What waits for the cluster's offers, by role: queued runs and pipeline launches. */
  queued: () => Promise<ReadonlyMap<string, QueuedDemand>>;
  provider: (role: RoleCapacity) => CapacityProvider;
  records: CapacityRecords;
  leadership: Leadership;
  clock: Clock;
  logger: Logger;
}

/** What the loop last saw of a role (the capacity API's answer on the leader). */
export interface RoleView {
  at: number;
  role: string;
  group: GroupState | null;
  agents: Array<CapacityAgent & { instanceId: string | null; cpus: number; memMb: number }>;
  input: ClusterCapacityInput | null;
  decision: ClusterCapacityDecision | null;
  error: string | null;
}

/** How long an unavailability window is scheduled for (the drain takes far less). */
const MAINTENANCE_WINDOW_NS = 3_600_000_000_000n;

export class CapacityLoop {
  readonly cluster: string;
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;
  private closed = false;
  private readonly views = new Map<string, RoleView>();
  private readonly lastReason = new Map<string, string>();

  constructor(private readonly o: CapacityLoopOptions) {
    this.cluster = o.cluster;
    o.leadership.onChange((leader) => (leader ? this.schedule(0) : this.pause()));
  }

  start(): void {
    if (this.o.leadership.isLeader()) this.schedule(0);
  }

  /** The roles this loop sizes, with what it last saw (on the leader; empty elsewhere). */
  roles(): readonly RoleCapacity[] {
    return this.o.roles;
  }

  view(role: string): RoleView | undefined {
    return this.views.get(role);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pause();
    await this.pass;
  }

  /** One pass now (tests and the timer). */
  async runOnce(): Promise<void> {
    if (!this.o.leadership.isLeader()) return;
    const view = this.o.view();
    if (!view?.master) return;
    const agents = await view.master.agents();
    const queued = await this.o.queued();
    for (const role of this.o.roles) {
      try {
        await this.passRole(role, view, agents, queued);
      } catch (err) {
        this.o.logger.warn({ err, role: role.role }, 'capacity: pass failed');
      }
    }
  }

  private pause(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pass = this.runOnce()
        .catch((err: unknown) => this.o.logger.warn({ err: (err as Error).message }, 'capacity: pass failed'))
        .finally(() => {
          if (this.o.leadership.isLeader()) this.schedule(this.o.intervalMs);
        });
    }, ms);
    this.timer.unref?.();
  }

  private async passRole(
    role: RoleCapacity,
    view: FrameworkView,
    masterAgents: readonly MasterAgent[],
    queued: ReadonlyMap<string, QueuedDemand>,
  ): Promise<void> {
    const now = this.o.clock.now();
    const provider = this.o.provider(role);
    let group: GroupState;
    try {
      group = await provider.describe(
        role.group,
        masterAgents.map((a) => a.hostname),
      );
    } catch (err) {
      const why = `DescribeAutoScalingGroups of ${role.group} failed: ${(err as Error).message}; nothing changes`;
      this.views.set(role.role, {
        at: now,
        role: role.role,
        group: null,
        agents: [],
        input: null,
        decision: null,
        error: why,
      });
      await this.note(role, 'error', 0, 0, { group: role.group }, why);
      return;
    }
    const state = await this.o.records.state(this.cluster, role.role);
    const live = group.instances.filter((i) => !/^Terminat/.test(i.state));
    const agents = masterAgents.flatMap((a) => {
      const instance = instanceOfHostname(a.hostname, live);
      if (!instance) return [];
      return [
        {
          agentId: a.id,
          hostname: a.hostname,
          tasks: Math.max(a.tasks, view.tasksOn(a.id)),
          draining: state.drain?.agentId === a.id,
          instanceId: instance.instanceId,
          cpus: a.cpus,
          memMb: a.memMb,
        },
      ];
    });
    if (state.drain && provider.kind !== 'dry-run') {
      const agent = masterAgents.find((a) => a.id === state.drain?.agentId);
      await this.progressDrain(role, provider, view, state, agent, group);
    }
    const running = { cpus: 0, memMb: 0 };
    for (const a of masterAgents)
      if (agents.some((x) => x.agentId === a.id)) {
        running.cpus += a.usedCpus;
        running.memMb += a.usedMemMb;
      }
    const mine = queued.get(role.role) ?? { cpus: 0, memMb: 0, count: 0 };
    const input: ClusterCapacityInput = {
      role: role.role,
      settings: { min: role.min, max: role.max, node: role.node, cooldownMs: role.cooldownMs },
      now,
      agents: agents.map(({ agentId, hostname, tasks }) => ({
        agentId,
        hostname,
        tasks,
        draining: state.drain?.agentId === agentId,
      })),
      running,
      queued: { cpus: mine.cpus, memMb: mine.memMb, count: mine.count },
      desired: group.desired,
      instances: live.length,
      lastScaleDownAt: state.lastScaleDownAt,
    };
    const decision = decideClusterCapacity(input);
    this.views.set(role.role, { at: now, role: role.role, group, agents, input, decision, error: null });
    const recorded = boundedInput(input, group);
    const say = (action: string, reason: string, desired = decision.desired) =>
      this.note(role, action, group.desired, desired, recorded, reason, true);
    if (decision.action === 'hold') {
      await this.note(role, 'hold', group.desired, decision.desired, recorded, decision.reason);
      return;
    }
    const dry = provider.kind === 'dry-run';
    if (decision.action === 'up') {
      try {
        await provider.setDesired(role.group, decision.desired);
        const what = dry ? 'dry run: would SetDesiredCapacity' : 'SetDesiredCapacity';
        await say('up', `${decision.reason} (${what})`);
      } catch (err) {
        await say(
          'error',
          `${decision.reason}; SetDesiredCapacity failed: ${(err as Error).message}; the group is left as it is`,
          group.desired,
        );
      }
      return;
    }
    const chosen = agents.find((a) => a.agentId === decision.drain[0]);
    const master = masterAgents.find((a) => a.id === decision.drain[0]);
    if (!chosen || !master) return;
    if (dry) {
      await provider.terminate(role.group, chosen.instanceId);
      await this.saveState(role, { ...state, lastScaleDownAt: now });
      await say(
        'down',
        `${decision.reason} (dry run: would schedule maintenance for ${chosen.hostname} and terminate ${chosen.instanceId})`,
      );
      return;
    }
    await this.beginDrain(
      role,
      view,
      state,
      { ...master, instanceId: chosen.instanceId },
      group,
      recorded,
      decision,
    );
  }

  /** Step 1: the machine is scheduled for maintenance; Galley is asked for offers so it hears of it. */
  private async beginDrain(
    role: RoleCapacity,
    view: FrameworkView,
    state: RoleState,
    agent: MasterAgent & { instanceId: string },
    group: GroupState,
    recorded: unknown,
    decision: ClusterCapacityDecision,
  ): Promise<void> {
    const now = this.o.clock.now();
    const machine: MachineId = { hostname: agent.hostname, ip: agent.ip };
    try {
      const client = view.master!;
      const windows = (await client.schedule()).filter(
        (w) => !w.machine_ids.some((m) => sameMachine(m, machine)),
      );
      await client.updateSchedule([
        ...windows,
        {
          machine_ids: [machine],
          unavailability: {
            start: { nanoseconds: BigInt(now) * 1_000_000n },
            duration: { nanoseconds: MAINTENANCE_WINDOW_NS },
          },
        },
      ]);
    } catch (err) {
      await this.note(
        role,
        'error',
        group.desired,
        group.desired,
        recorded,
        `${decision.reason}; scheduling maintenance for ${agent.hostname} failed: ${(err as Error).message}; nothing changes`,
        true,
      );
      return;
    }
    const drain: DrainRecord = {
      agentId: agent.id,
      hostname: agent.hostname,
      ip: agent.ip,
      instanceId: agent.instanceId,
      phase: 'scheduled',
      startedAt: now,
    };
    await this.saveState(role, { lastScaleDownAt: now, drain });
    view.wantOffers(role.role);
    await this.note(
      role,
      'drain',
      group.desired,
      decision.desired,
      recorded,
      `${decision.reason}: maintenance scheduled for ${agent.hostname} (${agent.ip}); waiting for the inverse offers to be accepted`,
      true,
    );
  }

  /** Steps 2–4 of a drain, one per pass; or its end when it cannot go on. */
  private async progressDrain(
    role: RoleCapacity,
    provider: CapacityProvider,
    view: FrameworkView,
    state: RoleState,
    agent: MasterAgent | undefined,
    group: GroupState,
  ): Promise<void> {
    const drain = state.drain!;
    const machine: MachineId = { hostname: drain.hostname, ip: drain.ip };
    const at = { drain };
    const now = this.o.clock.now();
    const say = (action: string, reason: string, desired = group.desired) =>
      this.note(role, action, group.desired, desired, at, reason, true);
    try {
      const client = view.master!;
      if (drain.phase === 'scheduled') {
        const status = await client.status();
        const draining = status.draining_machines.find((m) => sameMachine(m.id, machine));
        if (!draining) {
          if (status.down_machines.some((m) => sameMachine(m, machine))) {
            await this.saveState(role, { ...state, drain: { ...drain, phase: 'down' } });
            return;
          }
          await this.endDrain(
            role,
            client,
            state,
            group,
            `the machine ${drain.hostname} left the maintenance schedule; drain given up`,
          );
          return;
        }
        const declined = draining.statuses.filter((s) => s.status === 'DECLINE');
        const busy = (agent?.tasks ?? 0) > 0 || view.tasksOn(drain.agentId) > 0;
        if (declined.length > 0 || busy) {
          const why =
            declined.length > 0
              ? `framework(s) ${declined.map((s) => s.framework_id.value).join(', ')} declined the inverse offer for ${drain.hostname}`
              : `work runs on ${drain.hostname} again`;
          await this.endDrain(role, client, state, group, `${why}; drain given up, the agent stays`);
          return;
        }
        const galley = draining.statuses.find((s) => s.framework_id.value === view.frameworkId);
        const allAccepted = draining.statuses.every((s) => s.status === 'ACCEPT');
        const unanswered = draining.statuses.length === 0 && now - drain.startedAt >= role.drainTimeoutMs / 2;
        if ((galley?.status === 'ACCEPT' && allAccepted) || unanswered) {
          await client.start([machine]);
          await this.saveState(role, { ...state, drain: { ...drain, phase: 'down' } });
          const who = unanswered
            ? 'no framework holds resources there'
            : `every framework asked accepted (${draining.statuses.map((s) => s.framework_id.value).join(', ')})`;
          await say('down', `${who}; START_MAINTENANCE: ${drain.hostname} is DOWN, its agent removed`);
          return;
        }
        if (now - drain.startedAt > role.drainTimeoutMs) {
          await this.endDrain(
            role,
            client,
            state,
            group,
            `the inverse offer for ${drain.hostname} was not accepted within ${role.drainTimeoutMs / 1000} s; drain given up`,
          );
        } else if (galley === undefined) {
          view.wantOffers(role.role);
        }
        return;
      }
      if (drain.phase === 'down') {
        await provider.terminate(role.group, drain.instanceId);
        await this.saveState(role, { ...state, drain: { ...drain, phase: 'terminated' } });
        await say(
          'terminate',
          `TerminateInstanceInAutoScalingGroup ${drain.instanceId} (${drain.hostname}), desired capacity decremented`,
          Math.max(0, group.desired - 1),
        );
        return;
      }
      await client.stop([machine]);
      await this.saveState(role, { ...state, drain: null });
      await say('done', `STOP_MAINTENANCE: ${drain.hostname} left the schedule; scale-down done`);
    } catch (err) {
      await say(
        'error',
        `drain of ${drain.hostname} (${drain.phase}): ${(err as Error).message}; tried again next pass`,
      );
    }
  }

  /** Gives a drain up: the machine leaves the schedule (the cooldown still applies). */
  private async endDrain(
    role: RoleCapacity,
    client: MasterMaintenance,
    state: RoleState,
    group: GroupState,
    why: string,
  ): Promise<void> {
    const drain = state.drain!;
    const machine: MachineId = { hostname: drain.hostname, ip: drain.ip };
    const windows = await client.schedule();
    const kept = windows
      .map((w) => ({ ...w, machine_ids: w.machine_ids.filter((m) => !sameMachine(m, machine)) }))
      .filter((w) => w.machine_ids.length > 0);
    await client.updateSchedule(kept);
    await this.saveState(role, { ...state, drain: null });
    await this.note(role, 'cancel', group.desired, group.desired, { drain }, why, true);
  }

  private saveState(role: RoleCapacity, state: RoleState): Promise<void> {
    return this.o.records.saveState(this.cluster, role.role, state, this.o.clock.now());
  }

  /** Records a decision or step; a `hold` with the same reason as the last record is not repeated. */
  private async note(
    role: RoleCapacity,
    action: string,
    current: number,
    desired: number,
    input: unknown,
    reason: string,
    always = false,
  ): Promise<void> {
    const key = role.role;
    if (!always && this.lastReason.get(key) === reason) return;
    this.lastReason.set(key, reason);
    if (action !== 'hold')
      this.o.logger.info({ cluster: this.cluster, role: key, action, current, desired, reason }, 'capacity');
    await this.o.records.record({
      cluster: this.cluster,
      role: key,
      at: this.o.clock.now(),
      action,
      current,
      desired,
      input,
      reason,
    });
  }
}

/** The input as recorded: at most 200 agents listed. */
function boundedInput(input: ClusterCapacityInput, group: GroupState): unknown {
  return {
    ...input,
    agents: input.agents.slice(0, 200),
    group: { desired: group.desired, min: group.min, max: group.max, instances: group.instances.length },
  };
}
