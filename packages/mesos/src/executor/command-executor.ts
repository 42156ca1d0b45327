/**
 * galley-executor's behaviour: a command executor on the executor client. A task's command comes
 * from `TaskInfo.command` (task-group tasks carry one) or, for LAUNCH — where Mesos forbids a task
 * to have both an executor and a command — from `TaskInfo.data`: base64 of a JSON CommandInfo
 * (`{"value":"…","shell":true,"environment":…}`) or of a plain shell command. Each command
 * runs as its own process group; it reports TASK_STARTING, TASK_RUNNING, then TASK_FINISHED or
 * TASK_FAILED with the exit code in the message ("Command exited with status N"). KILL sends
 * TASK_KILLING (only when the framework has TASK_KILLING_STATE), SIGTERM, SIGKILL after the grace
 * period (KILL event policy > TaskInfo policy > default), then TASK_KILLED. Once every task ended
 * and the agent acknowledged the terminal updates, it stops. A terminal update carries the task's
 * peak memory and CPU in its `data` (task-usage.ts).
 *
 * Shared (`GALLEY_EXECUTOR_SHARED=1`, or `shared`): one long-lived executor per agent and
 * framework runs many tasks — the scheduler reuses its ExecutorInfo, so a launch is a LAUNCH event
 * and a fork, not a process start on the agent. Each task then runs in its own directory of the
 * sandbox, `tasks/<task id>/`, with its own `stdout` and `stderr` there, and the executor stays up
 * while idle for `GALLEY_EXECUTOR_IDLE_TIMEOUT` (a stout duration such as `10mins`; default 10
 * minutes) before it stops (freeing its resources).
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandInfo, TaskInfo, TaskState } from '../types/index.js';
import { parseStoutDuration } from './config.js';
import {
  createExecutor,
  type ExecutorClient,
  type ExecutorLifecycleEvent,
  type ExecutorOptions,
} from './client.js';
import { describeExit, TaskProcess, taskEnvironment } from './task-process.js';
import { encodeTaskUsage, TaskUsageSampler } from './task-usage.js';

/** The command a task asks for: `TaskInfo.command`, else the CommandInfo (or shell text) in `data`. */
export function taskCommand(task: TaskInfo): CommandInfo | undefined {
  if (task.command !== undefined) return task.command;
  if (task.data === undefined) return undefined;
  const text = Buffer.from(task.data, 'base64').toString('utf8');
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as CommandInfo).value === 'string')
      return parsed as CommandInfo;
  } catch {
    // not JSON: a plain shell command
  }
  return text.trim() === '' ? undefined : { shell: true, value: text };
}

/** Options of `runCommandExecutor`. */
export interface CommandExecutorOptions {
  /** Environment of the executor (default `process.env`); tasks inherit it. */
  env?: Record<string, string | undefined>;
  /** Kill grace period when neither the KILL nor the TaskInfo sets one; default 3000 ms. */
  defaultKillGraceMs?: number;
  /** Where diagnostics go (default: stderr, which the agent keeps in the sandbox). */
  log?: (line: string) => void;
  /** Test seam: overrides of the client options. */
  client?: Partial<ExecutorOptions>;
  /** One executor for many tasks (see the module comment); default from `GALLEY_EXECUTOR_SHARED`. */
  shared?: boolean;
  /** Shared: how long it stays up without a task (ms); default from `GALLEY_EXECUTOR_IDLE_TIMEOUT`, else 10 min. */
  idleTimeoutMs?: number;
}

/** How long a shared executor waits for its next task by default. */
export const DEFAULT_SHARED_IDLE_TIMEOUT_MS = 10 * 60_000;

/** The directory of a task of a shared executor, relative to its sandbox (its output files are there). */
export function sharedTaskDirectory(taskId: string): string {
  return `tasks/${taskId}`;
}

/** The outcome of a run: 0 when every task ended and was acknowledged, 1 when the agent was lost. */
export type CommandExecutorExit = 0 | 1;

/** Runs the command executor until its tasks are done; resolves with the process exit code to use. */
export function runCommandExecutor(options: CommandExecutorOptions = {}): Promise<CommandExecutorExit> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`galley-executor: ${line}\n`));
  const shared = options.shared ?? env['GALLEY_EXECUTOR_SHARED'] === '1';
  const idleTimeoutMs =
    options.idleTimeoutMs ??
    parseStoutDuration(env['GALLEY_EXECUTOR_IDLE_TIMEOUT'] ?? '') ??
    DEFAULT_SHARED_IDLE_TIMEOUT_MS;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const processes = new Map<string, TaskProcess>();
  // Each task's peaks, sent with its terminal update (see task-usage.ts).
  const usage = new TaskUsageSampler();
  let launched = 0;
  let shuttingDown = false;
  let updates: Promise<unknown> = Promise.resolve();
  let finish: (code: CommandExecutorExit) => void = () => undefined;
  const finished = new Promise<CommandExecutorExit>((resolve) => (finish = resolve));

  const send = (
    client: ExecutorClient,
    task: TaskInfo,
    state: TaskState,
    message?: string,
    data?: string,
  ): Promise<unknown> => {
    // One update at a time, so the agent receives them in order.
    updates = updates
      .then(() =>
        client.update({
          task_id: task.task_id,
          state,
          ...(message === undefined ? {} : { message }),
          ...(data === undefined ? {} : { data }),
        }),
      )
      .catch((error: unknown) => log(`update ${state} of ${task.task_id.value} failed: ${String(error)}`));
    return updates;
  };

  const stopWhenIdle = async (client: ExecutorClient): Promise<void> => {
    if (processes.size > 0 || (launched === 0 && !shuttingDown)) return;
    if (shared && !shuttingDown) {
      // A shared executor waits for its next task; it stops after `idleTimeoutMs` without one.
      if (idleTimer !== undefined) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idleTimer = undefined;
        if (processes.size === 0) {
          shuttingDown = true;
          void stopWhenIdle(client);
        }
      }, idleTimeoutMs);
      return;
    }
    await updates;
    const waitMs = client.config.checkpoint
      ? client.config.recoveryTimeoutMs
      : client.config.shutdownGracePeriodMs;
    if (!(await client.waitForAcknowledgements(waitMs))) log('exiting with unacknowledged updates');
    await client.stop();
    finish(0);
  };

  const run = async (client: ExecutorClient, task: TaskInfo): Promise<void> => {
    launched++;
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = undefined;
    await send(client, task, 'TASK_STARTING');
    const command = taskCommand(task);
    if (command === undefined) {
      await send(
        client,
        task,
        'TASK_FAILED',
        'galley-executor needs TaskInfo.command or a command in TaskInfo.data',
      );
      return stopWhenIdle(client);
    }
    const child = shared
      ? sharedTaskProcess(command, task, client, env)
      : new TaskProcess(command, {
          cwd: client.config.sandbox,
          env: taskEnvironment(command, env as NodeJS.ProcessEnv),
        });
    processes.set(task.task_id.value, child);
    let pid: number | undefined;
    try {
      pid = await child.started;
      if (pid > 0) usage.track(pid);
      else pid = undefined;
      await send(client, task, 'TASK_RUNNING');
    } catch (error) {
      log(`could not start ${task.task_id.value}: ${String(error)}`);
    }
    const exit = await child.exited;
    processes.delete(task.task_id.value);
    const state: TaskState = exit.killed
      ? 'TASK_KILLED'
      : exit.signal === null && exit.code === 0
        ? 'TASK_FINISHED'
        : 'TASK_FAILED';
    const used = pid === undefined ? undefined : encodeTaskUsage(usage.untrack(pid));
    await send(client, task, state, describeExit(exit), used);
    await stopWhenIdle(client);
  };

  const killAll = (graceMs: number): void => {
    for (const child of processes.values()) child.kill(graceMs);
  };

  const onLifecycle = (event: ExecutorLifecycleEvent): void => {
    if (event.type === 'agent-lost' || event.type === 'recovery-timeout') {
      log(
        event.type === 'agent-lost'
          ? 'lost the agent (no checkpointing): killing tasks'
          : 'recovery timeout: killing tasks',
      );
      killAll(0);
      if (idleTimer !== undefined) clearTimeout(idleTimer);
      void client.stop().then(() => finish(1));
    } else if (event.type === 'handler-failed') {
      log(`handling ${event.event} failed: ${String(event.error)}`);
    }
  };

  const client = createExecutor({
    env,
    defaultKillGraceMs: options.defaultKillGraceMs,
    onLifecycle,
    ...options.client,
    handlers: {
      launch: (task, c) => {
        void run(c, task);
      },
      launchGroup: (group, c) => {
        for (const task of group.tasks ?? []) void run(c, task);
      },
      kill: async (taskId, policy, c) => {
        const child = processes.get(taskId);
        const task = c.task(taskId);
        if (child === undefined || task === undefined) return;
        if (c.supportsKillingState) await send(c, task, 'TASK_KILLING');
        child.kill(c.killGraceMs(taskId, policy));
      },
      shutdown: (c) => {
        shuttingDown = true;
        if (idleTimer !== undefined) clearTimeout(idleTimer);
        killAll(Math.min(c.config.shutdownGracePeriodMs, options.defaultKillGraceMs ?? 3000));
        void stopWhenIdle(c);
      },
      message: (data) => log(`message from the scheduler: ${Buffer.from(data, 'base64').toString('utf8')}`),
      error: (message) => log(`error from the agent: ${message}`),
    },
  });
  client.start();
  return finished;
}

/**
 * A task of a shared executor: run in `tasks/<task id>/` of the sandbox, with its output in that
 * directory's `stdout` and `stderr`, MESOS_SANDBOX pointing there and MESOS_TASK_ID its id.
 */
function sharedTaskProcess(
  command: CommandInfo,
  task: TaskInfo,
  client: ExecutorClient,
  env: Record<string, string | undefined>,
): TaskProcess {
  const base = client.config.sandbox ?? process.cwd();
  const directory = join(base, sharedTaskDirectory(task.task_id.value));
  mkdirSync(directory, { recursive: true });
  const stdout = openSync(join(directory, 'stdout'), 'a');
  const stderr = openSync(join(directory, 'stderr'), 'a');
  try {
    return new TaskProcess(command, {
      cwd: directory,
      // MESOS_EXECUTOR_ID names the shared executor here, so the task's own id is given apart.
      env: taskEnvironment(command, {
        ...(env as NodeJS.ProcessEnv),
        MESOS_SANDBOX: directory,
        MESOS_TASK_ID: task.task_id.value,
      }),
      output: { stdout, stderr },
    });
  } finally {
    closeSync(stdout);
    closeSync(stderr);
  }
}
