/**
 * A simulated world for the pipeline reconciler: instances start after a delay, become healthy,
 * never become healthy, turn unhealthy, or crash, as their version's behaviour says. Each tick
 * advances time, lets the world act, runs `computePipeline` and carries its plan out exactly as the
 * server would (events through `instanceTransition`).
 */
import {
  computePipeline,
  DEFAULT_RESTART_BACKOFF,
  instanceTransition,
  newInstanceState,
  readySince,
} from '@galley/core';
import type {
  InstanceEvent,
  InstanceState,
  PipelineDesired,
  PipelinePlan,
  PipelineUpdate,
} from '@galley/core';

/** How instances of one version behave (ms after the moment named). */
export interface Behaviour {
  /** From launch (or restart) to running. */
  startMs: number;
  /** Processes have health checks. */
  healthChecked: boolean;
  /** From running to healthy; null = never healthy. */
  healthyAfterMs: number | null;
  /** From running to a health check crossing its threshold; null = never. */
  unhealthyAfterMs?: number | null;
  /** From running to a process exiting with code 1; null = never. */
  crashAfterMs?: number | null;
  /** From stop-requested to stopped. */
  stopMs?: number;
}

export interface Tick {
  now: number;
  plan: PipelinePlan;
  /** After the plan was carried out. */
  instances: InstanceState[];
  update: PipelineUpdate | null;
  version: number;
}

export class World {
  now: number;
  desired: PipelineDesired;
  update: PipelineUpdate | null = null;
  readonly instances = new Map<string, InstanceState>();
  readonly behaviours = new Map<number, Behaviour>();
  readonly launchedIds: string[] = [];
  readonly restarts: { instanceId: string; exitAt: number; restartAt: number }[] = [];
  private readonly stopAt = new Map<string, number>();

  constructor(desired: PipelineDesired, now: number) {
    this.desired = desired;
    this.now = now;
  }

  private apply(id: string, event: InstanceEvent): void {
    const s = this.instances.get(id) as InstanceState;
    this.instances.set(
      id,
      instanceTransition(s, event, this.desired.restartBackoff ?? DEFAULT_RESTART_BACKOFF),
    );
  }

  /** The world acts on its own: starts, health, crashes, stops completing. */
  private act(): void {
    for (const s of [...this.instances.values()]) {
      const b = this.behaviours.get(s.version) as Behaviour;
      const id = s.instanceId;
      if (s.phase === 'stopping' && this.now >= (this.stopAt.get(id) as number))
        this.apply(id, { type: 'stopped', at: this.now });
      if (s.phase === 'starting' && this.now >= s.launchedAt + b.startMs)
        this.apply(id, { type: 'running', at: this.now });
      const cur = this.instances.get(id) as InstanceState;
      if (cur.phase !== 'running') continue;
      const up = this.now - (cur.runningSince as number);
      if (b.crashAfterMs != null && up >= b.crashAfterMs) {
        this.apply(id, {
          type: 'process-exited',
          at: this.now,
          process: 'worker',
          exitCode: 1,
          message: 'boom',
        });
        continue;
      }
      if (b.healthChecked && b.unhealthyAfterMs != null && up >= b.unhealthyAfterMs) {
        this.apply(id, {
          type: 'health',
          at: this.now,
          status: 'unhealthy',
          message: 'process worker is unhealthy',
        });
      } else if (b.healthChecked && b.healthyAfterMs !== null && up >= b.healthyAfterMs) {
        this.apply(id, { type: 'health', at: this.now, status: 'healthy' });
      }
    }
  }

  /** Carries a plan out as the server would. */
  private carryOut(plan: PipelinePlan): void {
    if (plan.revertToVersion !== null) this.desired = { ...this.desired, version: plan.revertToVersion };
    this.desired = { ...this.desired, instanceSeq: plan.instanceSeq };
    this.update = plan.updateProgress;
    for (const stop of plan.stop) {
      this.apply(stop.instanceId, { type: 'stop-requested', at: this.now, reason: stop.reason });
      const b = this.behaviours.get(
        (this.instances.get(stop.instanceId) as InstanceState).version,
      ) as Behaviour;
      this.stopAt.set(stop.instanceId, this.now + (b.stopMs ?? 2000));
    }
    for (const restart of plan.restart) {
      const s = this.instances.get(restart.instanceId) as InstanceState;
      this.restarts.push({ instanceId: s.instanceId, exitAt: s.lastExit?.at as number, restartAt: this.now });
      this.apply(restart.instanceId, { type: 'restarting', at: this.now });
    }
    for (const launch of plan.launch) {
      const b = this.behaviours.get(launch.version) as Behaviour;
      if (this.instances.has(launch.instanceId)) throw new Error(`instance id ${launch.instanceId} reused`);
      this.instances.set(launch.instanceId, newInstanceState(launch, this.now, b.healthChecked));
      this.launchedIds.push(launch.instanceId);
    }
  }

  /** Advances by `dtMs`, lets the world act, reconciles, carries the plan out. */
  tick(dtMs: number): Tick {
    this.now += dtMs;
    this.act();
    const plan = computePipeline(this.desired, [...this.instances.values()], this.update, this.now);
    this.carryOut(plan);
    return {
      now: this.now,
      plan,
      instances: [...this.instances.values()],
      update: this.update,
      version: this.desired.version,
    };
  }

  /** Instances not being stopped. */
  live(): InstanceState[] {
    return [...this.instances.values()].filter((s) => s.phase !== 'stopping' && s.phase !== 'stopped');
  }

  /** Running, and healthy where checked. */
  ready(): InstanceState[] {
    return [...this.instances.values()].filter((s) => readySince(s) !== null);
  }
}
