import { arrayField, objectField } from '../wire/call-parsing.js';
import { formatStoutDuration } from '../wire/mesos-json.js';
import type { FakeAgent, FakeExecutor, JsonObject, World } from '../model/world.js';

/**
 * The environment the agent gives executors and command tasks (spec §3.1, transcript 15): the
 * agent's own environment, the MESOS_* variables, LIBPROCESS_*, then `CommandInfo.environment`.
 * There is no MESOS_TASK_ID. Durations are in stout format (`5secs`, `15mins`, `2secs`).
 */

/**
 * `Environment.variables` of a CommandInfo as a map: VALUE variables as they are, and SECRET
 * variables whose `Secret` is of type VALUE decoded from its base64 `data`, as the agent's default
 * secret resolver does. A REFERENCE secret needs a resolver module stock agents do not have: left out.
 */
export function commandVariables(command: JsonObject | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const variable of arrayField(objectField(command, 'environment'), 'variables')) {
    const v = variable as {
      name?: unknown;
      type?: unknown;
      value?: unknown;
      secret?: { type?: unknown; value?: { data?: unknown } };
    } | null;
    if (v === null || typeof v.name !== 'string') continue;
    if (v.type === 'SECRET') {
      const data = v.secret?.type === 'VALUE' ? v.secret.value?.data : undefined;
      if (typeof data === 'string') out[v.name] = Buffer.from(data, 'base64').toString('utf8');
      continue;
    }
    if (v.type !== undefined && v.type !== 'VALUE') continue;
    out[v.name] = typeof v.value === 'string' ? v.value : '';
  }
  return out;
}

/** True when the framework asked for checkpointing. */
export function frameworkCheckpoints(world: World, frameworkId: string): boolean {
  return world.frameworks.get(frameworkId)?.info.checkpoint === true;
}

/** The variables an executor process starts with, including its CommandInfo's. */
export function executorEnvironment(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  command: JsonObject | undefined,
): Record<string, string> {
  const checkpoint = frameworkCheckpoints(world, executor.frameworkId);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('MESOS_') && !name.startsWith('LIBPROCESS_'))
      env[name] = value;
  }
  Object.assign(env, {
    LIBPROCESS_IP: agent.ip,
    LIBPROCESS_PORT: '0',
    MESOS_AGENT_ENDPOINT: `${agent.ip}:${agent.port}`,
    MESOS_CHECKPOINT: checkpoint ? '1' : '0',
    MESOS_DIRECTORY: executor.directory,
    MESOS_EXECUTOR_ID: executor.id,
    MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: formatStoutDuration(world.options.executorShutdownGracePeriodMs),
    MESOS_FRAMEWORK_ID: executor.frameworkId,
    MESOS_HTTP_COMMAND_EXECUTOR: '0',
    MESOS_SANDBOX: executor.directory,
    MESOS_SLAVE_ID: agent.id,
    MESOS_SLAVE_PID: `slave(1)@${agent.ip}:${agent.port}`,
  });
  if (checkpoint) {
    env.MESOS_RECOVERY_TIMEOUT = formatStoutDuration(world.options.recoveryTimeoutMs);
    env.MESOS_SUBSCRIPTION_BACKOFF_MAX = formatStoutDuration(world.options.executorReregistrationTimeoutMs);
  }
  return Object.assign(env, commandVariables(command));
}

/** The variables of a command task (command executor): the executor's plus MESOS_ALLOCATION_ROLE. */
export function commandTaskEnvironment(
  world: World,
  agent: FakeAgent,
  executor: FakeExecutor,
  command: JsonObject | undefined,
): Record<string, string> {
  const env = executorEnvironment(world, agent, executor, undefined);
  env.MESOS_ALLOCATION_ROLE = executor.role;
  return Object.assign(env, commandVariables(command));
}
