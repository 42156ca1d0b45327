import type { Pipeline, PipelineTask } from '../api/types.js';

/** How a pipeline's instances are doing, from its `tasks[]`. Counts are instances. */
export interface PipelineHealth {
  desired: number;
  /** Instances that exist (launched or launching). */
  present: number;
  healthy: number;
  failing: number;
  killing: number;
  /** Instances neither healthy, failing nor being killed (starting, staging). */
  starting: number;
  tone: 'success' | 'warning' | 'danger' | 'neutral';
  label: string;
}

const RUNNING = new Set(['TASK_RUNNING', 'RUNNING', 'running', 'healthy']);

/** Whether an instance counts as healthy: `ok`, or every process reports running. */
export function isHealthy(task: PipelineTask): boolean {
  if (task.killing || task.failing) return false;
  if (task.ok !== undefined) return task.ok;
  const processes = Object.values(task.processes ?? {});
  return processes.length > 0 && processes.every((p) => RUNNING.has(p.status ?? ''));
}

/** The health summary shown in lists and on the pipeline page. */
export function pipelineHealth(pipeline: Pipeline): PipelineHealth {
  const tasks = pipeline.tasks ?? [];
  const healthy = tasks.filter(isHealthy).length;
  const failing = tasks.filter((t) => t.failing).length;
  const killing = tasks.filter((t) => t.killing).length;
  const desired = pipeline.instances ?? 0;
  const starting = Math.max(0, tasks.length - healthy - failing - killing);
  let tone: PipelineHealth['tone'] = 'success';
  if (failing > 0) tone = 'danger';
  else if (healthy < desired || starting > 0 || killing > 0) tone = 'warning';
  if (desired === 0 && tasks.length === 0) tone = 'neutral';
  const parts = [`${healthy}/${desired} healthy`];
  if (failing) parts.push(`${failing} failing`);
  if (starting) parts.push(`${starting} starting`);
  if (killing) parts.push(`${killing} stopping`);
  return {
    desired,
    present: tasks.length,
    healthy,
    failing,
    killing,
    starting,
    tone,
    label: parts.join(' · '),
  };
}

/** The pipeline as Faustian's JSON a user edits: without what the server reports about it. */
export function editablePipeline(pipeline: Pipeline): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...pipeline };
  for (const key of [
    'tasks',
    'key',
    'created',
    'updated',
    'update',
    'updates',
    'status',
    'status_reason',
    'metadata',
    'version',
    'cluster',
  ])
    delete copy[key];
  return copy;
}
