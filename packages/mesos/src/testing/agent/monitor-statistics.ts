import type { FakeAgent, FakeExecutor, World } from '../model/world.js';
import { readCallBody } from '../wire/call-parsing.js';
import type { HttpRequest, HttpResponder } from '../wire/http-server.js';
import { sendJson, sendMethodNotAllowed, sendText } from '../wire/responses.js';
import {
  readCgroupStatistics,
  readProcessGroupStatistics,
  type ResourceStatistics,
} from './monitor-readings.js';
import { executorName } from './state-json.js';
import { COMMAND_EXECUTOR_CPUS, COMMAND_EXECUTOR_MEM_MB } from './image-runtime.js';

/**
 * The agent's `GET /monitor/statistics` (also `/monitor/statistics.json`): a JSON array with one
 * entry per live executor, `{executor_id, executor_name, framework_id, source, statistics}`, as
 * Mesos' resource monitor answers it. Figures are read at each request: an executor running in
 * an image from its container's cgroup, a host executor from its process group in /proc; its
 * limits are the container's (`cpus_limit`, `mem_limit_bytes`). Simulated executors have no
 * processes and are listed with their limits only.
 */

/** Where an executor's figures are read, and its limits. */
export interface StatisticsSource {
  /** The container's cgroup (undefined once it is gone); absent = the executor's process group. */
  cgroup?: () => Promise<string | undefined>;
  cpusLimit: number;
  memLimitBytes: number;
}

const sources = new WeakMap<FakeExecutor, StatisticsSource>();

/** Says where the executor's figures are (set when its task starts in a container). */
export function setStatisticsSource(executor: FakeExecutor, source: StatisticsSource): void {
  sources.set(executor, source);
}

/**
 * Serves the monitor endpoint, and the agent's operator API (`POST /api/v1`) for its one call the
 * fake has, GET_CONTAINERS (the same figures per container, as `resource_statistics`; other calls
 * get 501); false when `request.path` is neither.
 */
export async function handleMonitor(
  world: World,
  agent: FakeAgent,
  request: HttpRequest,
  res: HttpResponder,
): Promise<boolean> {
  if (request.path === '/api/v1') {
    await getContainers(world, agent, request, res);
    return true;
  }
  if (request.path !== '/monitor/statistics' && request.path !== '/monitor/statistics.json') return false;
  const entries = (await agentStatistics(world, agent)).map(({ executor, statistics }) => ({
    executor_id: executor.id,
    executor_name: executorName(executor),
    framework_id: executor.frameworkId,
    source: executor.id,
    statistics,
  }));
  sendJson(res, JSON.stringify(entries));
  return true;
}

async function getContainers(
  world: World,
  agent: FakeAgent,
  request: HttpRequest,
  res: HttpResponder,
): Promise<void> {
  if (request.method !== 'POST') return sendMethodNotAllowed(res, request.method);
  const parsed = readCallBody(request, {});
  if (!parsed.ok) return sendText(res, parsed.status, parsed.body);
  const type = parsed.call.type;
  if (typeof type !== 'string')
    return sendText(res, 400, "Failed to validate agent::Call: Expecting 'type' to be present");
  if (type !== 'GET_CONTAINERS') return sendText(res, 501, `The fake Mesos agent does not implement ${type}`);
  const containers = (await agentStatistics(world, agent)).map(({ executor, statistics }) => ({
    framework_id: { value: executor.frameworkId },
    executor_id: { value: executor.id },
    executor_name: executorName(executor),
    container_id: { value: executor.containerId },
    resource_statistics: statistics,
  }));
  sendJson(res, JSON.stringify({ type: 'GET_CONTAINERS', get_containers: { containers } }));
}

/** The figures of every live executor of the agent. */
export async function agentStatistics(
  world: World,
  agent: FakeAgent,
): Promise<{ executor: FakeExecutor; statistics: ResourceStatistics }[]> {
  const out: { executor: FakeExecutor; statistics: ResourceStatistics }[] = [];
  for (const executor of agent.executors.values()) {
    if (executor.state !== 'terminated')
      out.push({ executor, statistics: await executorStatistics(world, executor) });
  }
  return out;
}

async function executorStatistics(world: World, executor: FakeExecutor): Promise<ResourceStatistics> {
  const source = sources.get(executor) ?? limitsOf(executor);
  const limits = { cpus_limit: source.cpusLimit, mem_limit_bytes: source.memLimitBytes };
  const timestamp = Date.now() / 1000;
  let read: Omit<ResourceStatistics, 'timestamp'> | undefined;
  if (source.cgroup !== undefined) {
    const cgroup = await source.cgroup();
    read = cgroup === undefined ? undefined : await readCgroupStatistics(cgroup);
  } else if (world.options.execution === 'processes' && executor.pid !== undefined) {
    read = await readProcessGroupStatistics(executor.pid);
  }
  return { timestamp, ...limits, ...(read ?? {}) };
}

/**
 * A host executor's limits: its own resources (a command executor's allowance) and its live tasks'
 * (what its container was given).
 */
function limitsOf(executor: FakeExecutor): StatisticsSource {
  const command = executor.kind === 'command';
  let cpus = command ? COMMAND_EXECUTOR_CPUS : executor.resources.scalar('cpus');
  let mem = command ? COMMAND_EXECUTOR_MEM_MB : executor.resources.scalar('mem');
  for (const task of executor.tasks.values()) {
    cpus += task.resources.scalar('cpus');
    mem += task.resources.scalar('mem');
  }
  return { cpusLimit: cpus, memLimitBytes: mem * 1024 * 1024 };
}
