import type { PipelineSpec, ProcessSpec } from '@galley/core';
import type {
  AcceptPlan,
  CommandInfo,
  ContainerInfo,
  ExecutorInfo,
  Label,
  PortMapping,
  ResourceNeeds,
  TaskInfo,
} from '@galley/mesos';
import { type GroupLaunch, taskIdOf } from '../group-runner.js';
import { processEnvironment, processScript } from '../launch-shape.js';
import { envVariable, healthCheckOf, type TaskShape } from './task-info.js';

/**
 * One launch of a pipeline instance as one LAUNCH_GROUP on Mesos' DEFAULT executor (spec §7.8):
 * one task per process (task id `<launch id>:<process>`), the executor's own resources
 * (`executor_resources`), the image as each task's MESOS container, BRIDGE port mappings on the
 * executor's network (tasks share it), each process's health check and kill_policy, and the
 * pipeline's labels. Pure but for the random port start of AcceptPlan.
 */

/** What placement decided for the launch: the agent's hostname and each process's host ports. */
export interface GroupPlacement {
  agentId: string;
  hostname: string;
  ports: Record<string, number[]>;
}

/** The CommandInfo of a process: a shell script, a program with arguments, or the image's entrypoint. */
export function commandOf(
  p: ProcessSpec,
  environment: Record<string, string>,
  secretEnv?: readonly string[],
): CommandInfo {
  const env = {
    environment: {
      variables: Object.entries(environment).map(([name, value]) => envVariable(name, value, secretEnv)),
    },
  };
  if (p.command === undefined) return { shell: false, arguments: p.arguments, ...env };
  if (p.shell) return { shell: true, value: processScript(p)!, ...env };
  return { shell: false, value: p.command, arguments: [p.command, ...p.arguments], ...env };
}

/** The labels of every task and of the executor: the pipeline's, then Galley's. */
export function labelsOf(launch: GroupLaunch, process?: string): { labels: Label[] } {
  return {
    labels: [
      ...Object.entries(launch.spec.labels).map(([key, value]) => ({ key, value })),
      { key: 'galley.pipeline', value: launch.pipelineId },
      { key: 'galley.instance', value: launch.instanceId },
      { key: 'galley.launch', value: launch.launchId },
      ...(process ? [{ key: 'galley.process', value: process }] : []),
    ],
  };
}

/** The port mappings of a process under BRIDGE: each host port to its container port. */
function mappingsOf(p: ProcessSpec, hostPorts: readonly number[]): PortMapping[] {
  return p.port_mappings.map((m, i) => ({
    host_port: hostPorts[i] ?? 0,
    container_port: m.container_port,
    protocol: m.protocol,
  }));
}

/**
 * Whether tasks get a container of their image: on an agent whose shape runs images (`auto` is
 * resolved per agent by the backend, `images.ts`; unresolved it runs none).
 */
function usesImage(spec: PipelineSpec, shape: TaskShape): boolean {
  return (
    (shape.containerizer === 'mesos' || shape.containerizer === 'docker') && spec.container !== undefined
  );
}

/**
 * The executor of a launch. With BRIDGE networking (and an image), its container joins the CNI
 * network with every process's port mappings: the tasks share the executor's network namespace.
 */
export function executorOf(
  launch: GroupLaunch,
  frameworkId: string,
  resources: ExecutorInfo['resources'],
  placement: GroupPlacement,
  shape: TaskShape,
): ExecutorInfo {
  const { spec } = launch;
  const bridge = usesImage(spec, shape) && spec.container?.network === 'BRIDGE';
  const container: ContainerInfo | undefined = bridge
    ? {
        type: 'MESOS',
        network_infos: [
          {
            name: shape.cniNetwork,
            port_mappings: Object.values(spec.processes).flatMap((p) =>
              mappingsOf(p, placement.ports[p.id] ?? []),
            ),
          },
        ],
      }
    : undefined;
  return {
    type: 'DEFAULT',
    executor_id: { value: launch.launchId },
    framework_id: { value: frameworkId },
    name: `galley pipeline ${launch.instanceId}`,
    resources: resources ?? [],
    ...(container ? { container } : {}),
    labels: labelsOf(launch),
  };
}

/** One process's TaskInfo; `resources` come from fitting `processNeeds` into the offers. */
export function processTaskInfo(
  launch: GroupLaunch,
  p: ProcessSpec,
  resources: TaskInfo['resources'],
  placement: GroupPlacement,
  shape: TaskShape,
): TaskInfo {
  const { spec } = launch;
  const hostPorts = placement.ports[p.id] ?? [];
  const env = processEnvironment(spec, p.id, {
    instanceId: launch.instanceId,
    launchId: launch.launchId,
    hostname: placement.hostname,
    ports: hostPorts,
  });
  const network = spec.container?.network === 'BRIDGE' && usesImage(spec, shape) ? 'BRIDGE' : 'HOST';
  const check = p.health_check;
  const health = check
    ? healthCheckOf(
        {
          protocol: check.protocol,
          ...(check.path !== undefined ? { path: check.path } : {}),
          ...(check.port_index !== undefined ? { portIndex: check.port_index } : {}),
          ...(check.command !== undefined ? { command: check.command } : {}),
          delaySeconds: 0,
          ...(check.interval_seconds !== undefined ? { intervalSeconds: check.interval_seconds } : {}),
          ...(check.timeout_seconds !== undefined ? { timeoutSeconds: check.timeout_seconds } : {}),
          ...(check.grace_period_seconds !== undefined
            ? { gracePeriodSeconds: check.grace_period_seconds }
            : {}),
          ...(check.max_consecutive_failures !== undefined
            ? { maxConsecutiveFailures: check.max_consecutive_failures }
            : {}),
        },
        hostPorts,
        p.port_mappings.map((m) => m.container_port),
        network,
      )
    : undefined;
  const image = usesImage(spec, shape) ? spec.container!.image : undefined;
  return {
    name: `${launch.instanceId}:${p.id}`,
    task_id: { value: taskIdOf(launch.launchId, p.id) },
    agent_id: { value: placement.agentId },
    resources: resources ?? [],
    command: commandOf(p, env, launch.secretEnv),
    ...(image
      ? { container: { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: image } } } } }
      : {}),
    ...(health ? { health_check: health } : {}),
    kill_policy: { grace_period: { nanoseconds: Math.round(p.kill_grace_period * 1e9) } },
    labels: labelsOf(launch, p.id),
  };
}

/** What a process needs from the offers: its resources and exactly the host ports placement chose. */
export function processNeeds(p: ProcessSpec, hostPorts: readonly number[]): ResourceNeeds {
  return { cpus: p.resources.cpu, mem: p.resources.mem, disk: p.resources.disk, fixedPorts: hostPorts };
}

/**
 * Adds the LAUNCH_GROUP of one launch to an ACCEPT plan: each process fitted (the executor's
 * resources with the first), the executor and the tasks. Answers the task ids, or the reason it no
 * longer fits (the plan is then unchanged but for what earlier launches took).
 */
export function addLaunchGroup(
  plan: AcceptPlan,
  launch: GroupLaunch,
  frameworkId: string,
  placement: GroupPlacement,
  shape: TaskShape,
): { ok: true; taskIds: string[] } | { ok: false; reason: string } {
  const { spec } = launch;
  const exec = spec.executor_resources;
  const executorNeeds: ResourceNeeds = { cpus: exec.cpu, mem: exec.mem, disk: exec.disk };
  const all: ResourceNeeds[] = [];
  const processes = Object.values(spec.processes);
  for (const p of processes) all.push(processNeeds(p, placement.ports[p.id] ?? []));
  // All or nothing: check the whole group (and its executor) first on a copy of what is left.
  const total: ResourceNeeds = {
    cpus: all.reduce((n, x) => n + (x.cpus ?? 0), exec.cpu),
    mem: all.reduce((n, x) => n + (x.mem ?? 0), exec.mem),
    disk: all.reduce((n, x) => n + (x.disk ?? 0), exec.disk),
  };
  if (!fitsWhole(plan, total))
    return { ok: false, reason: 'the offers of the agent changed since placement' };
  let executorResources: ExecutorInfo['resources'] | undefined;
  const tasks: TaskInfo[] = [];
  for (const [i, p] of processes.entries()) {
    const fit = plan.fit(all[i]!, { executorId: launch.launchId, needs: executorNeeds });
    if (!fit.ok) return { ok: false, reason: fit.reason };
    executorResources ??= fit.executorResources;
    tasks.push(processTaskInfo(launch, p, fit.resources, placement, shape));
  }
  plan.launchGroup(executorOf(launch, frameworkId, executorResources, placement, shape), tasks);
  return { ok: true, taskIds: tasks.map((t) => t.task_id.value) };
}

/** Whether the plan's remaining cpus, memory and disk hold `needs` as a whole (nothing is taken). */
function fitsWhole(plan: AcceptPlan, needs: ResourceNeeds): boolean {
  const left = (name: string) => plan.pool.available(name);
  return (
    left('cpus') + 1e-9 >= (needs.cpus ?? 0) &&
    left('mem') + 1e-9 >= (needs.mem ?? 0) &&
    left('disk') + 1e-9 >= (needs.disk ?? 0)
  );
}
