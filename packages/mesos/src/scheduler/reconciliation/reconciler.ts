/**
 * Task reconciliation (spec §5). After every SUBSCRIBED, and periodically:
 *
 *   remaining = the tasks the framework believes non-terminal (from the user's callback)
 *   round 1..maxRounds, while remaining is not empty:
 *     send explicit RECONCILE for remaining (chunks of ≤ chunkSize tasks)
 *     wait delay (cut short when every task has answered); delay = min(delay × factor, max)
 *     remaining = tasks with no update handled since the run started
 *   send one implicit RECONCILE (tasks: []) to discover tasks unknown to the framework
 *
 * At most one run at a time: starting a run cancels the one in progress. Answers flow through
 * the normal ordered handler; the scheduler reports each handled UPDATE here (`noteUpdate`), so
 * when a run completes its answers have already been handled.
 */
import type { AgentID, TaskID } from '../../types/index.js';
import { reconcile as reconcileCall } from '../calls/builders.js';
import type { Clock } from '../clock.js';
import type { SchedulerCallOf } from '../../types/index.js';

/** A task the framework believes is not terminal. */
export interface ReconcileTaskRef {
  task_id: TaskID;
  /** Include it whenever known (spec §5). */
  agent_id?: AgentID;
}

/** Reconciliation settings. Durations in ms. */
export interface ReconciliationOptions {
  /** The tasks the framework believes non-terminal. Called at the start of every run. */
  tasks: () => readonly ReconcileTaskRef[] | Promise<readonly ReconcileTaskRef[]>;
  /** Wait after the first explicit RECONCILE before re-sending. Default 5000. */
  initialDelayMs?: number;
  /** Cap of the wait between rounds. Default 60 000. */
  maxDelayMs?: number;
  /** Growth of the wait per round. Default 2. */
  factor?: number;
  /** Tasks per RECONCILE call. Default 1000. */
  chunkSize?: number;
  /**
   * Explicit rounds before giving up on tasks that never answer. Default 12 (≈ 11 min with the
   * default delays, longer than the master's 10 min agent re-registration timeout).
   */
  maxRounds?: number;
  /** Time between periodic runs (after the previous run ended). Default 15 min; 0 disables. */
  periodMs?: number;
}

/** What started a run. */
export type ReconciliationTrigger = 'subscribed' | 'periodic' | 'manual';

/** The outcome of one reconciliation run. */
export interface ReconciliationResult {
  trigger: ReconciliationTrigger;
  /** Task ids that got an update during the run. */
  answered: string[];
  /** Task ids that never got one (after `maxRounds`, or when cancelled). */
  unanswered: string[];
  /** Explicit rounds sent. */
  rounds: number;
  /** Whether the final implicit RECONCILE was sent. */
  implicitSent: boolean;
  /** True when a new subscription, a disconnect or stop ended the run early. */
  cancelled: boolean;
  startedAt: number;
  finishedAt: number;
}

/** Resolved reconciliation settings. */
type Settings = Required<Omit<ReconciliationOptions, 'tasks'>> & Pick<ReconciliationOptions, 'tasks'>;

/** What the reconciler needs from the scheduler. */
export interface ReconcilerDeps {
  clock: Clock;
  /** Sends a RECONCILE call on the current subscription; rejects when there is none. */
  send(call: SchedulerCallOf<'RECONCILE'>): Promise<unknown>;
  onComplete(result: ReconciliationResult): void;
  onError(error: unknown): void;
}

interface Run {
  trigger: ReconciliationTrigger;
  startedAt: number;
  remaining: Map<string, ReconcileTaskRef>;
  /** Task ids listed for this run. */
  listed: string[];
  /** Task ids with an update handled since the run started (listed or not). */
  updated: Set<string>;
  cancelled: boolean;
  wake: (() => void) | undefined;
  promise: Promise<ReconciliationResult>;
}

/** Fills in the defaults of `ReconciliationOptions`. */
export function resolveReconciliation(options: ReconciliationOptions | undefined): Settings {
  return {
    tasks: options?.tasks ?? (() => []),
    initialDelayMs: options?.initialDelayMs ?? 5000,
    maxDelayMs: options?.maxDelayMs ?? 60_000,
    factor: options?.factor ?? 2,
    chunkSize: Math.max(1, options?.chunkSize ?? 1000),
    maxRounds: Math.max(1, options?.maxRounds ?? 12),
    periodMs: options?.periodMs ?? 15 * 60_000,
  };
}

/** Runs reconciliation as described above. */
export class Reconciler {
  private run: Run | undefined;
  private periodic: unknown;

  constructor(
    private readonly settings: Settings,
    private readonly deps: ReconcilerDeps,
  ) {}

  /** Starts a run, cancelling the one in progress. Resolves with its result (never rejects). */
  start(trigger: ReconciliationTrigger): Promise<ReconciliationResult> {
    this.cancel();
    const run: Run = {
      trigger,
      startedAt: this.deps.clock.now(),
      remaining: new Map(),
      listed: [],
      updated: new Set(),
      cancelled: false,
      wake: undefined,
      promise: Promise.resolve(undefined as never),
    };
    this.run = run;
    run.promise = this.execute(run);
    return run.promise;
  }

  /** Joins the run in progress, or starts a manual one. */
  startOrJoin(): Promise<ReconciliationResult> {
    return this.run ? this.run.promise : this.start('manual');
  }

  /** True while a run is in progress. */
  get running(): boolean {
    return this.run !== undefined;
  }

  /** Records that an update for `taskId` was handled. */
  noteUpdate(taskId: string): void {
    const run = this.run;
    if (!run) return;
    run.updated.add(taskId);
    if (run.remaining.delete(taskId) && run.remaining.size === 0) run.wake?.();
  }

  /** Cancels the run in progress and the periodic timer (on disconnect and stop). */
  cancel(): void {
    if (this.periodic !== undefined) this.deps.clock.clearTimeout(this.periodic);
    this.periodic = undefined;
    const run = this.run;
    if (!run) return;
    run.cancelled = true;
    run.wake?.();
    this.run = undefined;
  }

  private async execute(run: Run): Promise<ReconciliationResult> {
    let rounds = 0;
    let implicitSent = false;
    try {
      const tasks = await this.settings.tasks();
      const listed = new Set<string>();
      for (const task of tasks) {
        const id = task.task_id.value;
        if (listed.has(id)) continue;
        listed.add(id);
        run.listed.push(id);
        if (!run.updated.has(id)) run.remaining.set(id, task);
      }
      let delay = this.settings.initialDelayMs;
      while (!run.cancelled && run.remaining.size > 0 && rounds < this.settings.maxRounds) {
        rounds++;
        const list = [...run.remaining.values()];
        for (let i = 0; i < list.length && !run.cancelled; i += this.settings.chunkSize) {
          await this.deps.send(reconcileCall(list.slice(i, i + this.settings.chunkSize)));
        }
        await this.waitUnlessAnswered(run, delay);
        delay = Math.min(delay * this.settings.factor, this.settings.maxDelayMs);
      }
      if (!run.cancelled) {
        await this.deps.send(reconcileCall([]));
        implicitSent = true;
      }
    } catch (error) {
      // No subscription (or it broke): the next SUBSCRIBED starts a new run.
      run.cancelled = true;
      this.deps.onError(error);
    }
    return this.finish(run, rounds, implicitSent);
  }

  private waitUnlessAnswered(run: Run, ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (run.cancelled || run.remaining.size === 0) return resolve();
      const handle = this.deps.clock.setTimeout(() => {
        run.wake = undefined;
        resolve();
      }, ms);
      run.wake = () => {
        this.deps.clock.clearTimeout(handle);
        run.wake = undefined;
        resolve();
      };
    });
  }

  private finish(run: Run, rounds: number, implicitSent: boolean): ReconciliationResult {
    if (this.run === run) this.run = undefined;
    const result: ReconciliationResult = {
      trigger: run.trigger,
      answered: run.listed.filter((id) => !run.remaining.has(id)),
      unanswered: [...run.remaining.keys()],
      rounds,
      implicitSent,
      cancelled: run.cancelled,
      startedAt: run.startedAt,
      finishedAt: this.deps.clock.now(),
    };
    if (!run.cancelled && this.settings.periodMs > 0 && this.run === undefined) {
      this.periodic = this.deps.clock.setTimeout(() => {
        this.periodic = undefined;
        void this.start('periodic');
      }, this.settings.periodMs);
    }
    this.deps.onComplete(result);
    return result;
  }
}
