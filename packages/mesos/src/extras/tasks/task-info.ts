import type {
  CommandInfo,
  ContainerInfo,
  EnvironmentVariable,
  ExecutorInfo,
  HealthCheck,
  Resource,
  TaskInfo,
} from '../../index.js';
import { instanceName, serialVariable } from './naming.js';
import type { ResolvedSpec } from './spec.js';

/** Everything decided for one launch of one instance. */
export interface LaunchInput {
  spec: ResolvedSpec;
  serial: number;
  taskId: string;
  agentId: string;
  /** The agent's hostname (offer.hostname): exported as HOST. */
  hostname: string;
  /** Host ports: PORT0.. in this order. */
  ports: readonly number[];
  /** The task's resources, cut from the offers. */
  resources: Resource[];
  /** The executor's resources when it must be launched with the task (DEFAULT/CUSTOM executors). */
  executorResources: Resource[] | undefined;
  frameworkId: string;
}

/** A TaskInfo and, for executor-based specs, the ExecutorInfo to launch it under. */
export interface BuiltTask {
  operation: 'LAUNCH' | 'LAUNCH_GROUP';
  task: TaskInfo;
  /** LAUNCH_GROUP: the group's executor. LAUNCH with a CUSTOM executor: also set in `task.executor`. */
  executor: ExecutorInfo | undefined;
}

/** The id of the executor an instance runs under (one executor per launch). */
export function executorIdFor(taskId: string): string {
  return `${taskId}.executor`;
}

/**
 * Builds the TaskInfo of one launch: name `<spec>-<serial>`, the spec's command with PORT0..n,
 * HOST and TASK_<NAME>_SERIAL_NUMBER added to its environment (replacing user variables of the
 * same names), container port mappings bound to the chosen host ports, the health check's port,
 * labels and kill policy.
 */
export function buildTask(input: LaunchInput): BuiltTask {
  const { spec } = input;
  const s = spec.spec;
  const env = launchEnvironment(input);
  const task: TaskInfo = {
    name: instanceName(spec.name, input.serial),
    task_id: { value: input.taskId },
    agent_id: { value: input.agentId },
    resources: input.resources,
  };
  const container = s.container === undefined ? undefined : bindPorts(s.container, spec, input.ports);
  if (container !== undefined) task.container = container;
  const health = healthCheckFor(spec, input.ports);
  if (health !== undefined) task.health_check = health;
  if (s.labels !== undefined) {
    task.labels = { labels: Object.entries(s.labels).map(([key, value]) => ({ key, value })) };
  }
  if (s.killGracePeriodSeconds !== undefined) {
    task.kill_policy = { grace_period: { nanoseconds: Math.round(s.killGracePeriodSeconds * 1e9) } };
  }
  const executorType = s.executor?.type;
  if (executorType === undefined) {
    task.command = withEnvironment(s.command, env);
    return { operation: 'LAUNCH', task, executor: undefined };
  }
  const executor: ExecutorInfo = {
    type: executorType,
    executor_id: { value: executorIdFor(input.taskId) },
    framework_id: { value: input.frameworkId },
    resources: input.executorResources ?? [],
  };
  if (s.executor?.container !== undefined) executor.container = s.executor.container;
  if (executorType === 'DEFAULT') {
    task.command = withEnvironment(s.command, env);
    return { operation: 'LAUNCH_GROUP', task, executor };
  }
  executor.command = withEnvironment(s.executor?.command ?? s.command, env);
  task.executor = executor;
  return { operation: 'LAUNCH', task, executor };
}

/** The variables the task manager injects, in order: PORT0..n, HOST, TASK_<NAME>_SERIAL_NUMBER. */
export function launchEnvironment(
  input: Pick<LaunchInput, 'spec' | 'serial' | 'hostname' | 'ports'>,
): EnvironmentVariable[] {
  const vars: EnvironmentVariable[] = input.ports.map((port, i) => ({
    name: `PORT${i}`,
    value: String(port),
  }));
  vars.push({ name: 'HOST', value: input.hostname });
  vars.push({ name: serialVariable(input.spec.name), value: String(input.serial) });
  return vars;
}

function withEnvironment(command: CommandInfo, vars: EnvironmentVariable[]): CommandInfo {
  const ours = new Set(vars.map((v) => v.name));
  const user = (command.environment?.variables ?? []).filter((v) => !ours.has(v.name));
  return { ...command, environment: { ...command.environment, variables: [...user, ...vars] } };
}

function usesPortMappings(container: ContainerInfo): boolean {
  if (container.type === 'DOCKER') {
    const network = container.docker?.network;
    return network === 'BRIDGE' || network === 'USER';
  }
  return (container.network_infos?.length ?? 0) > 0;
}

function bindPorts(container: ContainerInfo, spec: ResolvedSpec, ports: readonly number[]): ContainerInfo {
  const mappings = spec.spec.portMappings ?? [];
  if (mappings.length === 0 || !usesPortMappings(container)) return container;
  const bound = mappings.map((m, i) => ({
    host_port: ports[i] as number,
    container_port: m.containerPort,
    protocol: m.protocol ?? 'tcp',
  }));
  if (container.type === 'DOCKER' && container.docker !== undefined) {
    return { ...container, docker: { ...container.docker, port_mappings: bound } };
  }
  const [first, ...rest] = container.network_infos ?? [];
  return { ...container, network_infos: [{ ...first, port_mappings: bound }, ...rest] };
}

function healthCheckFor(spec: ResolvedSpec, ports: readonly number[]): HealthCheck | undefined {
  const check = spec.spec.healthCheck;
  const index = spec.spec.healthCheckPortIndex;
  if (check === undefined || index === undefined) return check;
  const mapped = spec.spec.container !== undefined && usesPortMappings(spec.spec.container);
  const port = mapped ? (spec.spec.portMappings?.[index]?.containerPort ?? ports[index]) : ports[index];
  if (port === undefined) return check;
  const out: HealthCheck = { ...check };
  if (out.http !== undefined) out.http = { ...out.http, port };
  if (out.tcp !== undefined) out.tcp = { ...out.tcp, port };
  return out;
}
