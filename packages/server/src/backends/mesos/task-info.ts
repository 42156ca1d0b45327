import type {
  CommandInfo,
  ContainerInfo,
  EnvironmentVariable,
  ExecutorInfo,
  HealthCheck,
  PortMapping,
  Resource,
  ResourceNeeds,
  TaskInfo,
} from '@galley/mesos';
import type { LaunchSpec } from '../backend.js';
import type { HealthCheckSpec } from '../../model/records.js';
import type { Containerizer, MesosNetwork } from '../../config/mesos-settings.js';

/**
 * A launch as a Mesos TaskInfo (spec §6.7, §7.2, §7.8): a command task run by `/bin/sh -c` with
 * the run's environment and its host ports as `PORT0…`, the image as a ContainerInfo, the kill
 * grace period as kill_policy, and an optional health check. Pure.
 */

/** How tasks are containerized and networked. */
export interface TaskShape {
  /** `auto` means per agent (`images.ts`): the launch plan gives each agent's shape `mesos`, `docker` or `none`. */
  containerizer: Containerizer;
  network: MesosNetwork;
  /** CNI network name of BRIDGE tasks under the MESOS containerizer. */
  cniNetwork: string;
  /** SIGTERM → SIGKILL grace of a kill, in ms. */
  killGraceMs: number;
}

/** What the task needs from the offers: resources and the exact host ports placement chose. */
export function needsOf(spec: LaunchSpec): ResourceNeeds {
  return {
    cpus: spec.cpus,
    mem: spec.memMb,
    disk: spec.diskMb ?? 0,
    gpus: spec.gpus,
    fixedPorts: spec.hostPorts ?? [],
  };
}

/** The port variables: `PORT0…PORTn` (host ports, in the definition's order), `PORTS`, and `PORT_<container port>`. */
export function portVariables(
  hostPorts: readonly number[],
  containerPorts: readonly number[],
): EnvironmentVariable[] {
  const vars: EnvironmentVariable[] = hostPorts.map((p, i) => ({ name: `PORT${i}`, value: String(p) }));
  if (hostPorts.length > 0) vars.push({ name: 'PORTS', value: hostPorts.join(',') });
  hostPorts.forEach((p, i) => {
    const c = containerPorts[i];
    if (c !== undefined) vars.push({ name: `PORT_${c}`, value: String(p) });
  });
  return vars;
}

/**
 * True when an image is one to run: not empty, not `none` (the run controller's `hasImage` in
 * runs/dispatch-plan.ts says the same for placement).
 */
export function hasImage(image: string): boolean {
  const name = image.trim().toLowerCase();
  return name !== '' && name !== 'none';
}

/**
 * The ContainerInfo of an image, or undefined for a plain command task: no image (or `none`), a
 * shape without containers (`none`), or `auto` not resolved for an agent.
 */
export function containerOf(
  image: string,
  shape: TaskShape,
  mappings: PortMapping[],
): ContainerInfo | undefined {
  if (shape.containerizer === 'none' || shape.containerizer === 'auto' || !hasImage(image)) return undefined;
  const name = image.trim();
  const bridge = shape.network === 'BRIDGE';
  if (shape.containerizer === 'docker') {
    return {
      type: 'DOCKER',
      docker: {
        image: name,
        network: shape.network,
        ...(bridge && mappings.length > 0 ? { port_mappings: mappings } : {}),
      },
    };
  }
  return {
    type: 'MESOS',
    mesos: { image: { type: 'DOCKER', docker: { name } } },
    ...(bridge ? { network_infos: [{ name: shape.cniNetwork, port_mappings: mappings }] } : {}),
  };
}

/**
 * The Mesos health check of a definition. `portIndex` picks one of the run's ports: the
 * container port under BRIDGE (checks run in the task's network namespace), the host port
 * otherwise. Undefined when the check names a port the run does not have.
 */
export function healthCheckOf(
  check: HealthCheckSpec,
  hostPorts: readonly number[],
  containerPorts: readonly number[],
  network: MesosNetwork,
): HealthCheck | undefined {
  const timing = {
    ...(check.delaySeconds !== undefined ? { delay_seconds: check.delaySeconds } : {}),
    ...(check.intervalSeconds !== undefined ? { interval_seconds: check.intervalSeconds } : {}),
    ...(check.timeoutSeconds !== undefined ? { timeout_seconds: check.timeoutSeconds } : {}),
    ...(check.gracePeriodSeconds !== undefined ? { grace_period_seconds: check.gracePeriodSeconds } : {}),
    ...(check.maxConsecutiveFailures !== undefined
      ? { consecutive_failures: check.maxConsecutiveFailures }
      : {}),
  };
  if (check.protocol === 'COMMAND') {
    return { type: 'COMMAND', command: { shell: true, value: check.command ?? 'true' }, ...timing };
  }
  const index = check.portIndex ?? 0;
  const port = network === 'BRIDGE' ? containerPorts[index] : hostPorts[index];
  if (port === undefined) return undefined;
  if (check.protocol === 'TCP') return { type: 'TCP', tcp: { port }, ...timing };
  return { type: 'HTTP', http: { port, path: check.path ?? '/', scheme: 'http' }, ...timing };
}

/**
 * One variable of the task's environment: a resolved secret as a SECRET variable carrying its
 * value (`Secret` of type VALUE, base64 data: the agent's default secret resolver hands it to the
 * task; spec §CommandInfo), anything else as a VALUE.
 */
export function envVariable(
  name: string,
  value: string,
  secretEnv: readonly string[] | undefined,
): EnvironmentVariable {
  if (!secretEnv?.includes(name)) return { name, value };
  return {
    name,
    type: 'SECRET',
    secret: { type: 'VALUE', value: { data: Buffer.from(value, 'utf8').toString('base64') } },
  };
}

/**
 * The TaskInfo of one launch; `resources` come from fitting `needsOf(spec)` into the offers. Under
 * a shared galley-executor (`executor`), the task has no `command` (Mesos forbids a task with both
 * an executor and a command): its CommandInfo travels in `data` (base64 JSON), as galley-executor
 * reads it.
 */
export function taskInfoOf(
  spec: LaunchSpec,
  agentId: string,
  resources: Resource[],
  shape: TaskShape,
  executor?: ExecutorInfo,
): TaskInfo {
  const hostPorts = spec.hostPorts ?? [];
  const containerPorts = spec.containerPorts ?? [];
  const mappings: PortMapping[] = hostPorts.flatMap((host, i) => {
    const container = containerPorts[i];
    return container === undefined ? [] : [{ host_port: host, container_port: container, protocol: 'tcp' }];
  });
  const variables: EnvironmentVariable[] = [
    ...spec.env.map(({ name, value }) => envVariable(name, value, spec.secretEnv)),
    ...portVariables(hostPorts, containerPorts),
  ];
  const container = containerOf(spec.image, shape, mappings);
  const health = spec.healthCheck
    ? healthCheckOf(spec.healthCheck, hostPorts, containerPorts, shape.network)
    : undefined;
  const command: CommandInfo = { shell: true, value: spec.command, environment: { variables } };
  return {
    name: spec.name ? `${spec.name}.${spec.seq}` : spec.attemptId,
    task_id: { value: spec.attemptId },
    agent_id: { value: agentId },
    resources,
    ...(executor ? { executor, data: Buffer.from(JSON.stringify(command)).toString('base64') } : { command }),
    ...(container ? { container } : {}),
    ...(health ? { health_check: health } : {}),
    kill_policy: { grace_period: { nanoseconds: Math.max(0, Math.round(shape.killGraceMs)) * 1_000_000 } },
    labels: {
      labels: [
        { key: 'galley.run_id', value: spec.runId },
        { key: 'galley.attempt', value: String(spec.seq) },
      ],
    },
  };
}
