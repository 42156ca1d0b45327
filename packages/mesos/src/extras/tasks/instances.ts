import { isTerminalTaskState, type TaskState, type TaskStatus } from '../../index.js';
import { instanceName, parseTaskId } from './naming.js';
import { restartDelay, type ResolvedSpec } from './spec.js';

/**
 * The task manager's state: one `Instance` per (spec, serial) slot, and the pure transitions that
 * status updates, launches and scaling cause. No I/O: every method returns the effects (kills,
 * events) for the shell to carry out.
 */

/**
 * Where an instance is: `waiting` for an offer (not before `notBefore`), `launching` (in an
 * ACCEPT, no update yet), `active` (a non-terminal state known), `killing` (we asked Mesos to kill
 * it), `finished` (ended in a state that does not restart it; kept until scaled away).
 */
export type InstancePhase = 'waiting' | 'launching' | 'active' | 'killing' | 'finished';

/** Why the task manager killed an instance's task. */
export type KillReason = 'scale_down' | 'unhealthy';

/** One slot of a spec and its current task, if any. */
export interface Instance {
  readonly spec: string;
  readonly serial: number;
  phase: InstancePhase;
  /** Current (or last) task id; `undefined` before the first launch. */
  taskId: string | undefined;
  agentId: string | undefined;
  /** Agent hostname (HOST). */
  hostname: string | undefined;
  /** Address to reach the agent (offer url ip, else hostname). */
  address: string | undefined;
  /** Host ports (PORT0..). */
  ports: number[];
  /** Last Mesos state of the current task. */
  state: TaskState | undefined;
  /** Epoch ms the current task was launched / first seen RUNNING. */
  launchedAt: number | undefined;
  runningSince: number | undefined;
  /** Consecutive failures (restart backoff). */
  failures: number;
  /** Epoch ms before which the instance is not launched again. */
  notBefore: number;
  /** Health as last reported by Mesos or the poller; `undefined` = unknown. */
  healthy: boolean | undefined;
  killReason: KillReason | undefined;
}

/** A read-only view of an instance, as carried by events. */
export interface TaskView {
  taskId: string;
  /** Mesos task name `<spec>-<serial>`. */
  name: string;
  spec: string;
  serial: number;
  agentId: string | undefined;
  hostname: string | undefined;
  ports: readonly number[];
  state: TaskState | undefined;
  healthy: boolean | undefined;
}

/** Why an instance left the table or stopped being restarted. */
export type RemovalReason = 'finished' | 'scaled_down';

/** Events of the task manager. */
export type TaskEvent =
  | { type: 'task_launched'; task: TaskView }
  | { type: 'task_updated'; task: TaskView; status: TaskStatus }
  | { type: 'task_removed'; task: TaskView; reason: RemovalReason; state: TaskState | undefined }
  | { type: 'task_unhealthy'; task: TaskView; source: 'mesos' | 'poller' }
  | { type: 'task_restarting'; task: TaskView; state: TaskState; delayMs: number };

/** Something the shell must do. */
export type Effect =
  { type: 'KILL'; taskId: string; agentId: string | undefined } | { type: 'EVENT'; event: TaskEvent };

/** States after which an instance's task is gone for the task manager: Mesos' terminal set plus UNKNOWN. */
export function endsTask(state: string): boolean {
  return isTerminalTaskState(state) || state === 'TASK_UNKNOWN';
}

/** The instance table. */
export class InstanceTable {
  private readonly specs = new Map<string, ResolvedSpec>();
  private readonly slots = new Map<string, Map<number, Instance>>();
  private readonly byTask = new Map<string, Instance>();
  /** The instances in phase `waiting`, by spec (kept in step by `setPhase`). */
  private readonly waitingBySpec = new Map<string, Set<Instance>>();
  private ordered: ResolvedSpec[] | undefined;

  constructor(
    specs: readonly ResolvedSpec[],
    private readonly random: () => number,
  ) {
    for (const spec of specs) {
      this.specs.set(spec.name, spec);
      this.slots.set(spec.name, new Map());
      this.waitingBySpec.set(spec.name, new Set());
      for (let serial = 1; serial <= spec.instances; serial++) this.addSlot(spec.name, serial, 0);
    }
  }

  /** The resolved specs, in priority order (then name). */
  orderedSpecs(): readonly ResolvedSpec[] {
    if (this.ordered === undefined) {
      this.ordered = [...this.specs.values()].sort(
        (a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
      );
    }
    return this.ordered;
  }

  /** The resolved spec of `name`, or `undefined`. */
  spec(name: string): ResolvedSpec | undefined {
    return this.specs.get(name);
  }

  /** All instances of a spec, by serial. */
  instances(spec: string): Instance[] {
    return [...(this.slots.get(spec)?.values() ?? [])].sort((a, b) => a.serial - b.serial);
  }

  /** Every instance. */
  all(): Instance[] {
    return [...this.slots.values()].flatMap((m) => [...m.values()]);
  }

  /** The instance whose current task is `taskId`. */
  byTaskId(taskId: string): Instance | undefined {
    return this.byTask.get(taskId);
  }

  /** Instances of a spec waiting for an offer whose backoff has passed, by serial. */
  waiting(spec: string, now: number): Instance[] {
    const out: Instance[] = [];
    let sorted = true;
    for (const i of this.waitingBySpec.get(spec) ?? []) {
      if (i.notBefore > now) continue;
      if (sorted && out.length > 0 && (out[out.length - 1] as Instance).serial > i.serial) sorted = false;
      out.push(i);
    }
    // Usually in serial order already (slots are added in order; restarts are few).
    return sorted ? out : out.sort((a, b) => a.serial - b.serial);
  }

  /** True when some instance of the spec is waiting and its backoff has passed. Cheap. */
  hasWaiting(spec: string, now: number): boolean {
    for (const i of this.waitingBySpec.get(spec) ?? []) if (i.notBefore <= now) return true;
    return false;
  }

  /** Specs with a waiting instance whose backoff ended in (`after`, `upTo`]: work that is new now. */
  specsEligibleBetween(after: number, upTo: number): string[] {
    const out: string[] = [];
    for (const [spec, set] of this.waitingBySpec) {
      for (const i of set) {
        if (i.notBefore > after && i.notBefore <= upTo) {
          out.push(spec);
          break;
        }
      }
    }
    return out;
  }

  /** The earliest `notBefore` of a waiting instance still in backoff, or `undefined`. */
  nextWakeup(now: number): number | undefined {
    let next: number | undefined;
    for (const set of this.waitingBySpec.values()) {
      for (const i of set)
        if (i.notBefore > now && (next === undefined || i.notBefore < next)) next = i.notBefore;
    }
    return next;
  }

  /** Tasks the manager believes non-terminal (for explicit reconciliation). */
  liveTasks(): { taskId: string; agentId: string | undefined }[] {
    return this.all()
      .filter(
        (i) =>
          i.taskId !== undefined &&
          (i.phase === 'launching' || i.phase === 'active' || i.phase === 'killing'),
      )
      .map((i) => ({ taskId: i.taskId as string, agentId: i.agentId }));
  }

  /** Records a launch sent in an ACCEPT. */
  launched(
    instance: Instance,
    launch: { taskId: string; agentId: string; hostname: string; address: string; ports: number[] },
    now: number,
  ): void {
    if (instance.taskId !== undefined) this.byTask.delete(instance.taskId);
    this.setPhase(instance, 'launching');
    instance.taskId = launch.taskId;
    instance.agentId = launch.agentId;
    instance.hostname = launch.hostname;
    instance.address = launch.address;
    instance.ports = launch.ports;
    instance.state = undefined;
    instance.launchedAt = now;
    instance.runningSince = undefined;
    instance.healthy = undefined;
    instance.killReason = undefined;
    this.byTask.set(launch.taskId, instance);
  }

  /** The ACCEPT carrying this launch failed before Mesos took it: wait for another offer (no backoff). */
  launchFailed(taskId: string): void {
    const instance = this.byTask.get(taskId);
    if (instance === undefined || instance.phase !== 'launching') return;
    this.byTask.delete(taskId);
    this.setPhase(instance, 'waiting');
    instance.taskId = undefined;
  }

  /**
   * Applies a status update of a known task. Duplicates and stale updates (at-least-once
   * delivery) are harmless: a task already ended is not ended twice.
   */
  update(status: TaskStatus, now: number): Effect[] {
    const instance = this.byTask.get(status.task_id.value);
    if (instance === undefined || instance.phase === 'waiting' || instance.phase === 'finished') return [];
    const effects: Effect[] = [];
    const wasRunning = instance.runningSince !== undefined;
    instance.state = status.state;
    if (status.agent_id !== undefined) instance.agentId = status.agent_id.value;
    if (status.state === 'TASK_RUNNING' && instance.runningSince === undefined) instance.runningSince = now;
    if (status.healthy !== undefined) {
      const turnedUnhealthy = status.healthy === false && instance.healthy !== false;
      instance.healthy = status.healthy;
      if (turnedUnhealthy)
        effects.push(event({ type: 'task_unhealthy', task: view(instance), source: 'mesos' }));
    }
    if (!endsTask(status.state)) {
      if (instance.phase === 'launching') this.setPhase(instance, 'active');
      effects.push(event({ type: 'task_updated', task: view(instance), status }));
      if (!wasRunning && status.state === 'TASK_RUNNING')
        effects.push(event({ type: 'task_launched', task: view(instance) }));
      return effects;
    }
    effects.push(event({ type: 'task_updated', task: view(instance), status }));
    effects.push(...this.ended(instance, status.state, now));
    return effects;
  }

  /**
   * Adopts a task that Mesos reports but the table does not know (e.g. after a scheduler restart),
   * when its id names a spec's free slot; returns false when it cannot be adopted.
   */
  adopt(status: TaskStatus, now: number): boolean {
    if (endsTask(status.state)) return false;
    const parsed = parseTaskId(status.task_id.value);
    if (parsed === undefined) return false;
    const instance = this.slots.get(parsed.spec)?.get(parsed.serial);
    if (instance === undefined || instance.phase !== 'waiting') return false;
    this.launched(
      instance,
      {
        taskId: status.task_id.value,
        agentId: status.agent_id?.value ?? '',
        hostname: '',
        address: '',
        ports: [],
      },
      now,
    );
    this.setPhase(instance, 'active');
    instance.state = status.state;
    if (status.state === 'TASK_RUNNING') instance.runningSince = now;
    return true;
  }

  /** Sets the desired instance count of a spec; returns the kills and events it causes. */
  scale(spec: string, instances: number, now: number): Effect[] {
    const resolved = this.specs.get(spec);
    const slots = this.slots.get(spec);
    if (resolved === undefined || slots === undefined) return [];
    resolved.instances = instances;
    const effects: Effect[] = [];
    for (let serial = 1; serial <= instances; serial++) {
      const existing = slots.get(serial);
      if (existing === undefined) this.addSlot(spec, serial, now);
      else if (existing.killReason === 'scale_down') existing.killReason = undefined;
    }
    for (const instance of [...slots.values()]
      .filter((i) => i.serial > instances)
      .sort((a, b) => b.serial - a.serial)) {
      effects.push(...this.scaleAway(instance));
    }
    return effects;
  }

  /** Marks an instance unhealthy (from the poller); kills it for a restart when `restart`. */
  unhealthy(taskId: string, restart: boolean): Effect[] {
    const instance = this.byTask.get(taskId);
    if (instance === undefined || instance.phase !== 'active') return [];
    const effects: Effect[] = [];
    if (instance.healthy !== false) {
      instance.healthy = false;
      effects.push(event({ type: 'task_unhealthy', task: view(instance), source: 'poller' }));
    }
    if (restart) {
      this.setPhase(instance, 'killing');
      instance.killReason = 'unhealthy';
      effects.push({ type: 'KILL', taskId, agentId: instance.agentId });
    }
    return effects;
  }

  /** Records a passing poll. */
  healthyAgain(taskId: string): void {
    const instance = this.byTask.get(taskId);
    if (instance !== undefined && instance.phase === 'active') instance.healthy = true;
  }

  private scaleAway(instance: Instance): Effect[] {
    const slots = this.slots.get(instance.spec);
    if (instance.phase === 'launching' || instance.phase === 'active' || instance.phase === 'killing') {
      const effects: Effect[] = [];
      if (instance.phase !== 'killing')
        effects.push({ type: 'KILL', taskId: instance.taskId as string, agentId: instance.agentId });
      this.setPhase(instance, 'killing');
      instance.killReason = 'scale_down';
      return effects;
    }
    slots?.delete(instance.serial);
    this.waitingBySpec.get(instance.spec)?.delete(instance);
    if (instance.taskId !== undefined) this.byTask.delete(instance.taskId);
    return [];
  }

  private ended(instance: Instance, state: TaskState, now: number): Effect[] {
    const spec = this.specs.get(instance.spec) as ResolvedSpec;
    const gone = view(instance);
    if (instance.killReason === 'scale_down' || instance.serial > spec.instances) {
      this.slots.get(instance.spec)?.delete(instance.serial);
      this.byTask.delete(instance.taskId as string);
      return [event({ type: 'task_removed', task: gone, reason: 'scaled_down', state })];
    }
    if (instance.killReason === 'unhealthy' || spec.restartOn.has(state)) {
      const ranLong =
        instance.runningSince !== undefined && now - instance.runningSince >= spec.backoff.resetAfter;
      instance.failures = ranLong ? 1 : instance.failures + 1;
      const delayMs = restartDelay(spec.backoff, instance.failures, this.random);
      this.setPhase(instance, 'waiting');
      instance.notBefore = now + delayMs;
      instance.killReason = undefined;
      this.byTask.delete(instance.taskId as string);
      return [event({ type: 'task_restarting', task: gone, state, delayMs })];
    }
    this.setPhase(instance, 'finished');
    this.byTask.delete(instance.taskId as string);
    return [event({ type: 'task_removed', task: gone, reason: 'finished', state })];
  }

  private setPhase(instance: Instance, phase: InstancePhase): void {
    if (instance.phase === phase) return;
    const waiting = this.waitingBySpec.get(instance.spec);
    if (phase === 'waiting') waiting?.add(instance);
    else if (instance.phase === 'waiting') waiting?.delete(instance);
    instance.phase = phase;
  }

  private addSlot(spec: string, serial: number, now: number): void {
    const instance: Instance = {
      spec,
      serial,
      phase: 'waiting',
      taskId: undefined,
      agentId: undefined,
      hostname: undefined,
      address: undefined,
      ports: [],
      state: undefined,
      launchedAt: undefined,
      runningSince: undefined,
      failures: 0,
      notBefore: now,
      healthy: undefined,
      killReason: undefined,
    };
    this.slots.get(spec)?.set(serial, instance);
    this.waitingBySpec.get(spec)?.add(instance);
  }
}

/** The event view of an instance. */
export function view(instance: Instance): TaskView {
  return {
    taskId: instance.taskId ?? '',
    name: instanceName(instance.spec, instance.serial),
    spec: instance.spec,
    serial: instance.serial,
    agentId: instance.agentId,
    hostname: instance.hostname,
    ports: [...instance.ports],
    state: instance.state,
    healthy: instance.healthy,
  };
}

function event(e: TaskEvent): Effect {
  return { type: 'EVENT', event: e };
}
