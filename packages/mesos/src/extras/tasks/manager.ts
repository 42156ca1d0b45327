import {
  type Clock,
  createScheduler,
  type HandlerContext,
  type MesosScheduler,
  type Offer,
  OfferBook,
  OfferHygiene,
  type ReconciliationOptions,
  type SchedulerHandlers,
  type SchedulerOptions,
  SYSTEM_CLOCK,
  type TaskStatus,
} from '../../index.js';
import {
  TaskManagerEmitter,
  TaskManagerError,
  type TaskManagerEventName,
  type TaskManagerEventOf,
} from './events.js';
import { HealthPoller } from './health-poller.js';
import { endsTask, InstanceTable, view, type Effect, type Instance, type TaskView } from './instances.js';
import { planRound, roleHasWaiting, type PlannedLaunch, type RoundPlan } from './planner.js';
import { resolveSpecs, type TaskSpec } from './spec.js';

/** Agents planned between two turns of the event loop in one offer round. */
const ROUND_CHUNK = 8;

/** Messages the manager sends itself through the scheduler's ordered queue. */
const INTERNAL = Symbol('galley.task-manager');
type Internal =
  | { [INTERNAL]: 'wake' }
  | { [INTERNAL]: 'scale'; spec: string; instances: number; done: () => void }
  | { [INTERNAL]: 'launch-failed'; launches: readonly PlannedLaunch[]; error: unknown }
  | { [INTERNAL]: 'unhealthy'; taskId: string }
  | { [INTERNAL]: 'healthy'; taskId: string };

/** A message of the manager's scheduler: one of the user's (`M`) or the manager's own. */
export type TaskManagerMessage<M> = M | Internal;

/** Options of `createTaskManager`: the scheduler's options plus the task map and offer policy. */
export interface TaskManagerOptions<M = never> extends Omit<
  SchedulerOptions<TaskManagerMessage<M>>,
  'handlers' | 'reconciliation'
> {
  /** What to keep running, by spec name (letters, digits, `-`, `_`). */
  tasks: Readonly<Record<string, TaskSpec>>;
  /**
   * Your own ordered handlers. They run after the manager's handler of the same event (which
   * uses every offer), in the same queue; `user` gets only your messages.
   */
  handlers?: SchedulerHandlers<M>;
  /** Reconciliation timing; the task list is the manager's own. */
  reconciliation?: Omit<ReconciliationOptions, 'tasks'>;
  /**
   * What to do with non-terminal tasks Mesos reports that the manager does not know (found by
   * implicit reconciliation): `true` (default) kills them, unless they are this manager's own
   * tasks for a free slot (after a scheduler restart), which are adopted. `false` ignores them.
   */
  killUnknownTasks?: boolean;
  /** `filters.refuse_seconds` for declined offers and ACCEPT leftovers; default 120. */
  refuseSeconds?: number;
  /** Minimum ms between two REVIVEs of one role; default 5000. */
  reviveIntervalMs?: number;
  /**
   * After a restart (the framework id came from the store), offers are held — not used — until
   * the first reconciliation has completed and this many ms more have passed for its implicit
   * answers to be handled, so the manager's tasks still running are adopted rather than launched
   * a second time. Default 1000. Offers are never held longer than 30 s.
   */
  adoptionGraceMs?: number;
}

/** The longest offers are held for adoption after a restart (ms). */
const MAX_ADOPTION_HOLD_MS = 30_000;

/**
 * Keeps a declarative map of task specs running on Mesos (item 7; what mesos-framework's `tasks`
 * option did) on top of the scheduler client: launches waiting instances from offers by
 * priority, restarts them with backoff, scales, injects PORTn/HOST/serial, polls health, kills
 * unknown tasks, and keeps offers tidy (decline with a filter, SUPPRESS when idle, REVIVE when
 * work comes back). All state changes happen in the scheduler's ordered queue.
 */
export class TaskManager<M = never> {
  /** The underlying scheduler client (for your own calls and lifecycle events). */
  readonly scheduler: MesosScheduler<TaskManagerMessage<M>>;
  private readonly table: InstanceTable;
  private readonly book = new OfferBook();
  /** Unknown tasks a KILL was sent for and no terminal update has come back yet. */
  private readonly killingUnknown = new Set<string>();
  private readonly hygiene: OfferHygiene;
  private readonly emitter: TaskManagerEmitter;
  private readonly poller: HealthPoller;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly multiRole: boolean;
  private readonly roles: string[];
  private readonly killUnknown: boolean;
  private readonly user: SchedulerHandlers<M>;
  private wakeTimer: { at: number; handle: unknown } | undefined;
  private lastWake = -Infinity;
  private readonly suppressedRoles: string[];
  private stopped = false;
  /** Epoch ms until which offers are kept in the book, not used (adoption after a restart). */
  private holdUntil = 0;
  private firstSubscription = true;
  private readonly adoptionGraceMs: number;

  /** Validates the specs (TaskSpecError) and builds the scheduler; call `start()` to connect. */
  constructor(options: TaskManagerOptions<M>) {
    const framework = options.framework;
    this.multiRole = (framework.capabilities ?? []).some((c) => c.type === 'MULTI_ROLE');
    const defaultRole = this.multiRole ? framework.roles?.[0] : undefined;
    const specs = resolveSpecs(options.tasks, defaultRole);
    this.roles = this.multiRole
      ? [
          ...new Set([
            ...(framework.roles ?? []),
            ...specs.flatMap((s) => (s.role === undefined ? [] : [s.role])),
          ]),
        ]
      : ['*'];
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.random = options.random ?? Math.random;
    this.table = new InstanceTable(specs, this.random);
    this.hygiene = new OfferHygiene({
      refuseSeconds: options.refuseSeconds,
      reviveIntervalMs: options.reviveIntervalMs,
    });
    this.killUnknown = options.killUnknownTasks ?? true;
    this.user = options.handlers ?? {};
    this.suppressedRoles = options.suppressedRoles ?? [];
    const logger = options.logger;
    this.emitter = new TaskManagerEmitter((error, name) =>
      logger?.error({ err: error, event: name }, 'a task manager listener threw'),
    );
    this.poller = new HealthPoller({
      onUnhealthy: (taskId) => this.post({ [INTERNAL]: 'unhealthy', taskId }),
      onHealthy: (taskId) => this.post({ [INTERNAL]: 'healthy', taskId }),
    });
    this.scheduler = createScheduler<TaskManagerMessage<M>>({
      ...options,
      handlers: this.handlers(),
      reconciliation: { ...options.reconciliation, tasks: () => this.reconcileTasks() },
    });
    this.adoptionGraceMs = Math.max(0, options.adoptionGraceMs ?? 1000);
    this.scheduler.on('disconnected', () => this.book.clear());
    this.scheduler.on('subscribed', ({ resubscribed }) => {
      if (this.firstSubscription && resubscribed) this.holdUntil = this.clock.now() + MAX_ADOPTION_HOLD_MS;
      this.firstSubscription = false;
    });
    this.scheduler.on('reconciliation-complete', (result) => {
      const now = this.clock.now();
      if (now >= this.holdUntil || result.cancelled || !result.implicitSent) return;
      this.holdUntil = now + this.adoptionGraceMs;
      this.armWake(this.holdUntil, now);
    });
  }

  /** Connects to Mesos (idempotent). */
  start(): void {
    this.scheduler.start();
  }

  /** Stops polling and timers and the scheduler (tasks keep running for the failover timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.poller.stop();
    if (this.wakeTimer !== undefined) this.clock.clearTimeout(this.wakeTimer.handle);
    this.wakeTimer = undefined;
    await this.scheduler.stop();
  }

  /** Listens to a task manager event; returns the function that stops listening. */
  on<K extends TaskManagerEventName>(name: K, listener: (event: TaskManagerEventOf<K>) => void): () => void {
    return this.emitter.on(name, listener);
  }

  /** The instances that have (or had) a task, as views. */
  tasks(): TaskView[] {
    return this.table
      .all()
      .filter((i) => i.taskId !== undefined)
      .map(view);
  }

  /**
   * Sets the instance count of a spec with `allowScaling` (scale-down kills the highest serials).
   * Resolves once applied in the ordered queue. Throws TaskManagerError for an unknown spec, a
   * spec without `allowScaling`, or a count that is not an integer ≥ 0.
   */
  async scale(spec: string, instances: number): Promise<void> {
    const resolved = this.table.spec(spec);
    if (resolved === undefined) throw new TaskManagerError('UNKNOWN_TASK_SPEC', `no task spec named ${spec}`);
    if (!resolved.allowScaling)
      throw new TaskManagerError('SCALING_NOT_ALLOWED', `task ${spec} does not allow scaling`);
    if (!Number.isInteger(instances) || instances < 0) {
      throw new TaskManagerError('BAD_INSTANCE_COUNT', `instances must be an integer ≥ 0, not ${instances}`);
    }
    if (this.stopped) throw new TaskManagerError('STOPPED', 'the task manager is stopped');
    await new Promise<void>((done, fail) => {
      this.scheduler.send({ [INTERNAL]: 'scale', spec, instances, done }).catch(fail);
    });
  }

  private handlers(): SchedulerHandlers<TaskManagerMessage<M>> {
    type Ctx = HandlerContext<TaskManagerMessage<M>>;
    const user = this.user as SchedulerHandlers<TaskManagerMessage<M>>;
    return {
      ...user,
      SUBSCRIBED: async (event, ctx: Ctx) => {
        this.book.clear();
        this.hygiene.reset(this.suppressedRoles);
        this.afterChange();
        await user.SUBSCRIBED?.(event, ctx);
      },
      OFFERS: async (event, ctx: Ctx) => {
        await this.offers(event.offers.offers ?? []);
        await user.OFFERS?.(event, ctx);
      },
      RESCIND: async (event, ctx: Ctx) => {
        this.book.rescind(event.rescind.offer_id.value);
        await user.RESCIND?.(event, ctx);
      },
      UPDATE: async (event, ctx: Ctx) => {
        this.update(event.update.status);
        await user.UPDATE?.(event, ctx);
      },
      user: async (message, ctx: Ctx) => {
        if (isInternal(message)) await this.internal(message);
        else await user.user?.(message, ctx);
      },
    };
  }

  /**
   * One offer round. Agents are planned in chunks, and the event loop gets a turn between chunks,
   * so the first ACCEPTs are on the wire (and the master launching) while later agents are planned.
   */
  private async offers(offers: readonly Offer[]): Promise<void> {
    this.book.add(offers);
    const now = this.clock.now();
    if (now < this.holdUntil) {
      this.armWake(this.holdUntil, now);
      return;
    }
    const groups = this.book.takeGroups();
    for (let i = 0; i < groups.length; i += ROUND_CHUNK) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      this.send(
        planRound(groups.slice(i, i + ROUND_CHUNK), this.table, {
          now: this.clock.now(),
          random: this.random,
          frameworkId: this.scheduler.id ?? '',
          refuseSeconds: this.hygiene.refuseSeconds,
          multiRole: this.multiRole,
        }),
      );
    }
    this.afterChange();
  }

  /** Sends a round's ACCEPTs and DECLINEs without waiting for the answers. */
  private send(plan: RoundPlan): void {
    const filters = { refuse_seconds: this.hygiene.refuseSeconds };
    for (const accept of plan.accepts) {
      this.hygiene.noteDeclined(this.roleKey(accept.role));
      const { offer_ids, operations } = accept.payload;
      // The failure path keeps only the launches: the TaskInfos can go once the call is encoded.
      const launches = accept.launches;
      this.scheduler.accept(offer_ids, operations, accept.payload.filters).catch((error: unknown) => {
        this.post({ [INTERNAL]: 'launch-failed', launches, error });
      });
      this.emitter.emit({
        type: 'offers_accepted',
        agentId: accept.launches[0]?.agentId ?? '',
        role: accept.role,
        offerIds: offer_ids.map((id) => id.value),
        taskIds: accept.launches.map((l) => l.taskId),
      });
    }
    for (const decline of plan.declines) {
      this.hygiene.noteDeclined(this.roleKey(decline.role));
      this.scheduler
        .decline(decline.offerIds, filters)
        .catch((error: unknown) => this.failed('DECLINE', error));
    }
  }

  private update(status: TaskStatus): void {
    const now = this.clock.now();
    const instance = this.table.byTaskId(status.task_id.value);
    if (instance === undefined) {
      this.unknown(status, now);
      return;
    }
    const effects = this.table.update(status, now);
    this.apply(effects);
    if (instance.phase !== 'active') this.poller.untrack(status.task_id.value);
    else if (status.state === 'TASK_RUNNING') this.startPolling(instance);
    if (effects.length > 0) this.afterChange();
  }

  private unknown(status: TaskStatus, now: number): void {
    const report = (action: 'adopted' | 'killed' | 'ignored'): void =>
      this.emitter.emit({
        type: 'task_unknown',
        taskId: status.task_id.value,
        agentId: status.agent_id?.value,
        state: status.state,
        action,
      });
    if (this.table.adopt(status, now)) {
      report('adopted');
      this.afterChange();
      return;
    }
    const id = status.task_id.value;
    if (!this.killUnknown || endsTask(status.state)) {
      this.killingUnknown.delete(id);
      report('ignored');
      return;
    }
    // Reconciliation may report the task more than once before the KILL lands: KILL again each
    // time (a KILL can be lost), but report the decision once.
    if (!this.killingUnknown.has(id)) {
      this.killingUnknown.add(id);
      report('killed');
    }
    this.scheduler
      .kill(status.task_id, status.agent_id)
      .catch((error: unknown) => this.failed('KILL', error));
  }

  private async internal(message: Internal): Promise<void> {
    switch (message[INTERNAL]) {
      case 'wake': {
        const now = this.clock.now();
        for (const spec of this.table.specsEligibleBetween(this.lastWake, now)) this.noteNewWork(spec);
        this.lastWake = now;
        if (this.book.size > 0 && now >= this.holdUntil) await this.offers([]);
        break;
      }
      case 'scale':
        this.apply(this.table.scale(message.spec, message.instances, this.clock.now()));
        this.noteNewWork(message.spec);
        message.done();
        break;
      case 'launch-failed':
        this.failed('ACCEPT', message.error);
        for (const launch of message.launches) {
          this.table.launchFailed(launch.taskId);
          this.noteNewWork(launch.instance.spec);
        }
        break;
      case 'unhealthy': {
        const instance = this.table.byTaskId(message.taskId);
        const restart =
          instance === undefined ? false : (this.table.spec(instance.spec)?.poller?.restart ?? false);
        this.apply(this.table.unhealthy(message.taskId, restart));
        break;
      }
      case 'healthy':
        this.table.healthyAgain(message.taskId);
        break;
    }
    this.afterChange();
  }

  private apply(effects: readonly Effect[]): void {
    for (const effect of effects) {
      if (effect.type === 'EVENT') {
        this.emitter.emit(effect.event);
        if (effect.event.type === 'task_restarting' || effect.event.type === 'task_removed') {
          this.poller.untrack(effect.event.task.taskId);
        }
      } else {
        this.scheduler
          .kill(effect.taskId, effect.agentId)
          .catch((error: unknown) => this.failed('KILL', error));
      }
    }
  }

  /** SUPPRESS/REVIVE per role as the hygiene policy says, and arm the wake-up timer. */
  private afterChange(): void {
    if (this.stopped || this.scheduler.state.phase !== 'SUBSCRIBED') return;
    const now = this.clock.now();
    let wakeAt = this.table.nextWakeup(now);
    for (const role of this.roles) {
      const waiting = roleHasWaiting(this.table, this.multiRole ? role : undefined, now);
      const decision = this.hygiene.decide(role, waiting, now);
      if (decision.recheckAt !== undefined && (wakeAt === undefined || decision.recheckAt < wakeAt)) {
        wakeAt = decision.recheckAt;
      }
      const call = decision.call;
      if (call === undefined) continue;
      const roles = this.multiRole ? call.roles : undefined;
      const sent = call.type === 'SUPPRESS' ? this.scheduler.suppress(roles) : this.scheduler.revive(roles);
      sent.catch((error: unknown) => this.failed(call.type, error));
    }
    this.armWake(wakeAt, now);
  }

  private armWake(at: number | undefined, now: number): void {
    if (at === undefined) return;
    if (this.wakeTimer !== undefined && this.wakeTimer.at <= at) return;
    if (this.wakeTimer !== undefined) this.clock.clearTimeout(this.wakeTimer.handle);
    const handle = this.clock.setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.post({ [INTERNAL]: 'wake' });
      },
      Math.max(0, at - now),
    );
    this.wakeTimer = { at, handle };
  }

  private startPolling(instance: Instance): void {
    const settings = this.table.spec(instance.spec)?.poller;
    if (settings === undefined || instance.taskId === undefined || this.poller.has(instance.taskId)) return;
    const port = instance.ports[settings.portIndex];
    if (port === undefined || instance.address === undefined || instance.address === '') return;
    this.poller.track({
      taskId: instance.taskId,
      name: view(instance).name,
      serial: instance.serial,
      address: instance.address,
      port,
      settings,
    });
  }

  private noteNewWork(spec: string): void {
    this.hygiene.noteNewWork(this.roleKey(this.table.spec(spec)?.role));
  }

  private roleKey(role: string | undefined): string {
    return this.multiRole ? (role ?? this.roles[0] ?? '*') : '*';
  }

  private reconcileTasks(): { task_id: { value: string }; agent_id?: { value: string } }[] {
    return this.table
      .liveTasks()
      .map((t) =>
        t.agentId === undefined || t.agentId === ''
          ? { task_id: { value: t.taskId } }
          : { task_id: { value: t.taskId }, agent_id: { value: t.agentId } },
      );
  }

  private post(message: Internal): void {
    if (this.stopped) return;
    this.scheduler.send(message).catch((error: unknown) => this.failed('QUEUE', error));
  }

  private failed(call: string, error: unknown): void {
    if (this.stopped) return;
    this.emitter.emit({ type: 'error', call, error });
  }
}

/** Creates a task manager (not started). See `TaskManager`. */
export function createTaskManager<M = never>(options: TaskManagerOptions<M>): TaskManager<M> {
  return new TaskManager(options);
}

function isInternal(message: unknown): message is Internal {
  return typeof message === 'object' && message !== null && INTERNAL in message;
}
