/**
 * The v1 executor client (spec §3): one SUBSCRIBE stream to the agent, calls through a keep-alive
 * pool, events handed to the handlers one at a time in arrival order.
 *
 *   SUBSCRIBE (with unacknowledged tasks and updates) ──► SUBSCRIBED, LAUNCH, KILL, … ──► handlers
 *   update() ──UPDATE (fresh v4 uuid)──► agent ──ACKNOWLEDGED──► forgotten
 *
 * The stream has no idle timeout (executor heartbeats come every 30 minutes). When it ends, a
 * checkpointing executor re-subscribes, retrying at random intervals up to
 * MESOS_SUBSCRIPTION_BACKOFF_MAX, until MESOS_RECOVERY_TIMEOUT runs out (§3.6); a
 * non-checkpointing one reports `agent-lost`. It never exits the process itself.
 */
import { randomUUID } from 'node:crypto';
import { MesosHttpClient } from '../http/client.js';
import { MesosHttpError } from '../http/errors.js';
import { decodeJsonBytes, encodeJson } from '../json/index.js';
import { RecordIODecoder } from '../recordio/index.js';
import { sleep, SYSTEM_CLOCK, type Clock } from '../scheduler/clock.js';
import type {
  ExecutorCall,
  ExecutorEvent,
  ExecutorEventSubscribed,
  KillPolicy,
  TaskGroupInfo,
  TaskInfo,
  TaskStatus,
} from '../types/index.js';
import { executorConfigFromEnv, type ExecutorConfig } from './config.js';
import { ExecutorError } from './errors.js';
import { Unacknowledged } from './unacknowledged.js';

/** What the executor does with each event; every handler is optional and may be async. */
export interface ExecutorHandlers {
  subscribed?(event: ExecutorEventSubscribed, executor: ExecutorClient): unknown;
  launch?(task: TaskInfo, executor: ExecutorClient): unknown;
  launchGroup?(group: TaskGroupInfo, executor: ExecutorClient): unknown;
  /** KILL; `killPolicy` is the event's override, if it carried one (see `killGraceMs`). */
  kill?(taskId: string, killPolicy: KillPolicy | undefined, executor: ExecutorClient): unknown;
  acknowledged?(taskId: string, uuid: string, executor: ExecutorClient): unknown;
  /** MESSAGE from the scheduler; `data` is base64. */
  message?(data: string, executor: ExecutorClient): unknown;
  shutdown?(executor: ExecutorClient): unknown;
  error?(message: string, executor: ExecutorClient): unknown;
}

/** Lifecycle notices (not Mesos events). */
export type ExecutorLifecycleEvent =
  | { type: 'subscribed'; resubscribed: boolean }
  | { type: 'disconnected'; cause: unknown }
  /** A non-checkpointing executor lost its agent: it should end its tasks and exit. */
  | { type: 'agent-lost' }
  /** MESOS_RECOVERY_TIMEOUT ran out while the agent was away: end the tasks and exit. */
  | { type: 'recovery-timeout' }
  | { type: 'handler-failed'; error: unknown; event: ExecutorEvent['type'] };

/** Options of `createExecutor`. */
export interface ExecutorOptions {
  handlers: ExecutorHandlers;
  /** Defaults to `executorConfigFromEnv(env)`. */
  config?: ExecutorConfig;
  /** Environment to read when `config` is absent (default `process.env`); the token is removed from it. */
  env?: Record<string, string | undefined>;
  /** Called for every lifecycle notice. */
  onLifecycle?: (event: ExecutorLifecycleEvent) => void;
  clock?: Clock;
  /** Random source in [0, 1) for the re-subscription delays. */
  random?: () => number;
  /** Default kill grace period when neither the KILL event nor the TaskInfo has one; default 3000 ms. */
  defaultKillGraceMs?: number;
}

/** Creates an executor client (not started: call `start()`). Throws ExecutorError EXECUTOR_BAD_CONFIG. */
export function createExecutor(options: ExecutorOptions): ExecutorClient {
  return new ExecutorClient(options, options.config ?? executorConfigFromEnv(options.env));
}

/** A 16-byte random (v4) UUID in base64, as Mesos requires for `TaskStatus.uuid`. */
export function newStatusUuid(): string {
  return Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64');
}

/** The fields of a status the caller provides; the client fills source, executor_id, timestamp, uuid. */
export type StatusInput = Omit<TaskStatus, 'uuid' | 'source' | 'executor_id'> &
  Partial<Pick<TaskStatus, 'executor_id'>>;

/** The executor client. */
export class ExecutorClient {
  private readonly http: MesosHttpClient;
  private readonly pending = new Unacknowledged();
  private readonly tasks = new Map<string, TaskInfo>();
  private readonly clock: Clock;
  private readonly random: () => number;
  private subscribedEvent: ExecutorEventSubscribed | undefined;
  private connected = false;
  private stopped = false;
  private closeStream: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();

  /** @internal use `createExecutor`. */
  constructor(
    private readonly options: ExecutorOptions,
    readonly config: ExecutorConfig,
  ) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.random = options.random ?? Math.random;
    this.http = new MesosHttpClient({
      requestTimeoutMs: 30_000,
      headers: config.authToken === undefined ? {} : { Authorization: `Bearer ${config.authToken}` },
    });
  }

  /** True while the SUBSCRIBE stream is open and SUBSCRIBED arrived. */
  get isSubscribed(): boolean {
    return this.connected;
  }

  /** The last SUBSCRIBED payload (executor, framework and agent info), or undefined before it. */
  get subscription(): ExecutorEventSubscribed | undefined {
    return this.subscribedEvent;
  }

  /** True when the framework may receive TASK_KILLING (capability TASK_KILLING_STATE). */
  get supportsKillingState(): boolean {
    return (
      this.subscribedEvent?.framework_info.capabilities?.some((c) => c.type === 'TASK_KILLING_STATE') === true
    );
  }

  /** The TaskInfo of a task this executor was given, or undefined. */
  task(taskId: string): TaskInfo | undefined {
    return this.tasks.get(taskId);
  }

  /** Updates still waiting for the agent's ACKNOWLEDGED. */
  get unacknowledgedUpdates(): TaskStatus[] {
    return this.pending.pendingUpdates();
  }

  /** Tasks none of whose updates the agent acknowledged yet. */
  get unacknowledgedTasks(): TaskInfo[] {
    return this.pending.pendingTasks();
  }

  /** Starts subscribing (idempotent). Resolves immediately; progress comes as lifecycle events. */
  start(): void {
    if (this.running !== undefined || this.stopped) return;
    this.running = this.run().catch((error: unknown) => this.notify({ type: 'disconnected', cause: error }));
  }

  /**
   * Sends a status update with a new uuid and keeps it until ACKNOWLEDGED (re-sent with the next
   * SUBSCRIBE if the agent goes away first). Resolves with the uuid once the agent answered 202,
   * or at once while disconnected. Rejects with EXECUTOR_CALL_REJECTED when the agent refuses it.
   */
  async update(input: StatusInput): Promise<string> {
    if (this.stopped) throw new ExecutorError('EXECUTOR_STOPPED', 'the executor client was stopped');
    const uuid = newStatusUuid();
    const status: TaskStatus = {
      ...input,
      source: 'SOURCE_EXECUTOR',
      executor_id: { value: this.config.executorId },
      timestamp: input.timestamp ?? this.clock.now() / 1000,
      uuid,
    };
    this.pending.addUpdate(status);
    if (!this.connected) return uuid;
    try {
      await this.call({ ...this.envelope(), type: 'UPDATE', update: { status } });
    } catch (error) {
      if (error instanceof MesosHttpError && error.status >= 400 && error.status < 500) {
        this.pending.dropUpdate(uuid);
        throw new ExecutorError('EXECUTOR_CALL_REJECTED', `the agent refused the update: ${error.reason}`, {
          cause: error,
        });
      }
      // Not delivered: it stays pending and goes with the next SUBSCRIBE.
    }
    return uuid;
  }

  /** Sends opaque bytes to the scheduler (best effort: not retried). */
  async message(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    await this.call({ ...this.envelope(), type: 'MESSAGE', message: { data: bytes.toString('base64') } });
  }

  /** Resolves true once every update was acknowledged, false after `timeoutMs`. */
  async waitForAcknowledgements(timeoutMs: number): Promise<boolean> {
    const timeout = new Promise<boolean>((resolve) => {
      const handle = this.clock.setTimeout(() => resolve(false), timeoutMs);
      void this.pending.drained().then(() => this.clock.clearTimeout(handle));
    });
    return Promise.race([this.pending.drained().then(() => true), timeout]);
  }

  /**
   * The grace period of a kill in ms: the KILL event's policy, else the TaskInfo's, else the
   * default (3000 ms unless configured).
   */
  killGraceMs(taskId: string, eventPolicy?: KillPolicy): number {
    const nanos =
      eventPolicy?.grace_period?.nanoseconds ??
      this.tasks.get(taskId)?.kill_policy?.grace_period?.nanoseconds;
    return nanos === undefined ? (this.options.defaultKillGraceMs ?? 3000) : Number(nanos) / 1e6;
  }

  /**
   * Resolves when the client has ended: stopped, or given up on the agent (after `agent-lost` or
   * `recovery-timeout`) — the moment an executor should exit. At once if never started.
   */
  get ended(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Closes the stream and the connections, waits for the handler in progress. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.closeStream?.();
    this.http.close();
    await this.chain;
    await this.running;
  }

  private envelope(): { framework_id: { value: string }; executor_id: { value: string } } {
    return {
      framework_id: { value: this.config.frameworkId },
      executor_id: { value: this.config.executorId },
    };
  }

  private async call(call: ExecutorCall): Promise<void> {
    await this.http.post(this.config.agentUrl, encodeJson(call), { signal: this.abort.signal });
  }

  private notify(event: ExecutorLifecycleEvent): void {
    try {
      this.options.onLifecycle?.(event);
    } catch {
      // a throwing observer must not break the connection loop
    }
  }

  /**
   * The connection loop of spec §3.6. While it runs it holds a referenced timer, so an executor
   * process waiting to reconnect (no stream, no task process) is not ended by Node for lack of work.
   */
  private async run(): Promise<void> {
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      await this.connectionLoop();
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async connectionLoop(): Promise<void> {
    let deadline: number | undefined;
    let everSubscribed = false;
    while (!this.stopped) {
      try {
        await this.subscribeOnce(() => {
          deadline = undefined;
          this.notify({ type: 'subscribed', resubscribed: everSubscribed });
          everSubscribed = true;
        });
        if (!this.stopped) this.notify({ type: 'disconnected', cause: 'the agent closed the stream' });
      } catch (cause) {
        if (this.stopped) break;
        this.notify({ type: 'disconnected', cause });
      }
      this.connected = false;
      if (this.stopped) break;
      if (!this.config.checkpoint) {
        this.notify({ type: 'agent-lost' });
        return;
      }
      deadline ??= this.clock.now() + this.config.recoveryTimeoutMs;
      // The agent expects a retry at least once per MESOS_SUBSCRIPTION_BACKOFF_MAX: waiting at
      // most half of it keeps a margin for the attempt itself.
      const wait = (this.random() * this.config.subscriptionBackoffMaxMs) / 2;
      if (this.clock.now() + wait > deadline) {
        this.notify({ type: 'recovery-timeout' });
        return;
      }
      await sleep(this.clock, wait, this.abort.signal);
    }
  }

  /** One subscription: resolves when the stream ends cleanly, rejects on failure. */
  private async subscribeOnce(onSubscribed: () => void): Promise<void> {
    const body: ExecutorCall = {
      ...this.envelope(),
      type: 'SUBSCRIBE',
      subscribe: this.pending.subscribePayload(),
    };
    const stream = await this.http.openStream(this.config.agentUrl, encodeJson(body), {
      signal: this.abort.signal,
    });
    this.closeStream = stream.close;
    const decoder = new RecordIODecoder();
    await new Promise<void>((resolve, reject) => {
      stream.body.on('data', (chunk: Buffer) => {
        try {
          for (const record of decoder.decode(chunk)) {
            const event = decodeJsonBytes(record) as ExecutorEvent;
            if (event.type === 'SUBSCRIBED') {
              this.connected = true;
              onSubscribed();
            }
            this.receive(event);
          }
        } catch (error) {
          stream.close();
          reject(error);
        }
      });
      stream.body.once('end', () => resolve());
      stream.body.once('aborted', () => reject(new Error('the agent stream was cut')));
      stream.body.once('error', (error) => reject(error));
      stream.body.once('close', () =>
        stream.body.complete ? resolve() : reject(new Error('the agent stream closed')),
      );
    });
  }

  /** Bookkeeping at once; handlers one at a time, in arrival order. */
  private receive(event: ExecutorEvent): void {
    if (event.type === 'SUBSCRIBED') this.subscribedEvent = event.subscribed;
    if (event.type === 'LAUNCH') this.remember([event.launch.task]);
    if (event.type === 'LAUNCH_GROUP') this.remember(event.launch_group.task_group.tasks ?? []);
    if (event.type === 'ACKNOWLEDGED')
      this.pending.acknowledge(event.acknowledged.task_id.value, event.acknowledged.uuid);
    this.chain = this.chain.then(async () => {
      try {
        await this.dispatch(event);
      } catch (error) {
        this.notify({ type: 'handler-failed', error, event: event.type });
      }
    });
  }

  private remember(tasks: TaskInfo[]): void {
    for (const task of tasks) {
      this.tasks.set(task.task_id.value, task);
      this.pending.addTask(task);
    }
  }

  private dispatch(event: ExecutorEvent): unknown {
    const h = this.options.handlers;
    switch (event.type) {
      case 'SUBSCRIBED':
        return h.subscribed?.(event.subscribed, this);
      case 'LAUNCH':
        return h.launch?.(event.launch.task, this);
      case 'LAUNCH_GROUP':
        return h.launchGroup?.(event.launch_group.task_group, this);
      case 'KILL':
        return h.kill?.(event.kill.task_id.value, event.kill.kill_policy, this);
      case 'ACKNOWLEDGED':
        return h.acknowledged?.(event.acknowledged.task_id.value, event.acknowledged.uuid, this);
      case 'MESSAGE':
        return h.message?.(event.message.data, this);
      case 'SHUTDOWN':
        return h.shutdown?.(this);
      case 'ERROR':
        return h.error?.(event.error.message, this);
      default:
        return undefined;
    }
  }
}
