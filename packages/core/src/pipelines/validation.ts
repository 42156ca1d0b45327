/**
 * The rules between the fields of a posted pipeline, and its defaults. Each field's type and
 * bounds are the server's schema's (`PipelineBody` of `@galley/server/api`), checked before the
 * spec gets here; what a schema cannot say is checked here.
 */
import type { HealthCheckSpec } from './health.js';
import { DEFAULT_AUTOSCALING, type PipelineAutoscaling } from '../scaling/pipeline-autoscaling.js';
import {
  DEFAULT_EXECUTOR_RESOURCES,
  DEFAULT_KILL_GRACE_PERIOD_SECONDS,
  DEFAULT_UPDATE_STRATEGY,
} from './spec.js';
import type {
  PipelineSpec,
  PipelineSpecInput,
  PortMapping,
  ProcessSpec,
  ProcessSpecInput,
  SpecProblem,
  UpdateStrategy,
} from './spec.js';

/** Fields whose value is `undefined` left out, so they take their defaults. */
function given<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The problems of a health check that depend on its process: its port and its protocol's needs. */
function healthCheckRules(check: HealthCheckSpec, ports: number): SpecProblem[] {
  const problems: SpecProblem[] = [];
  if (check.protocol === 'COMMAND' && !check.command) {
    problems.push({ field: 'command', message: 'is required for a COMMAND check' });
  }
  if (check.protocol === 'HTTP' || check.protocol === 'TCP') {
    const index = check.port_index ?? 0;
    if (index >= ports) {
      problems.push({
        field: 'port_index',
        message: `must point at one of the process's ${ports} port mappings`,
      });
    }
  }
  return problems;
}

/** One entry of `processes`, its defaults filled; its problems added to `problems`. */
function parseProcess(
  key: string,
  p: ProcessSpecInput,
  hasImage: boolean,
  problems: SpecProblem[],
): ProcessSpec {
  const at = `processes.${key}`;
  if (p.id !== undefined && p.id !== key) {
    problems.push({ field: `${at}.id`, message: `must match its key "${key}"` });
  }
  if (!hasImage && p.command === undefined) {
    problems.push({
      field: `${at}.command`,
      message: 'is required when the pipeline has no container image',
    });
  }
  const ports: PortMapping[] = (p.port_mappings ?? []).map((m) => ({
    host_port: m.host_port,
    container_port: m.container_port ?? 0,
    protocol: m.protocol ?? 'tcp',
  }));
  if (p.health_check !== undefined) {
    for (const problem of healthCheckRules(p.health_check, ports.length)) {
      problems.push({ field: `${at}.health_check.${problem.field}`, message: problem.message });
    }
  }
  const spec: ProcessSpec = {
    id: key,
    arguments: p.arguments ?? [],
    shell: p.shell ?? false,
    environment: p.environment ?? {},
    resources: { cpu: p.resources.cpu, mem: p.resources.mem, disk: p.resources.disk ?? 0 },
    port_mappings: ports,
    kill_grace_period: p.kill_grace_period ?? DEFAULT_KILL_GRACE_PERIOD_SECONDS,
  };
  if (p.command !== undefined) spec.command = p.command;
  if (p.health_check !== undefined) spec.health_check = p.health_check;
  if (p.drain !== undefined) {
    const port = 'http' in p.drain ? p.drain.http.port : undefined;
    const index = typeof port === 'string' ? Number(/^PORT(\d+)$/.exec(port)?.[1] ?? NaN) : 0;
    if (typeof port === 'string' && !(index < ports.length))
      problems.push({
        field: `${at}.drain.http.port`,
        message: `must be a port number or PORT0…PORT${Math.max(0, ports.length - 1)} of the process's ${ports.length} port mappings`,
      });
    spec.drain = p.drain;
  }
  return spec;
}

/** `autoscaling` with its defaults filled; its problems added to `problems`. */
function parseAutoscaling(
  raw: NonNullable<PipelineSpecInput['autoscaling']>,
  problems: SpecProblem[],
): PipelineAutoscaling {
  const a: PipelineAutoscaling = {
    ...DEFAULT_AUTOSCALING,
    ...given(raw),
    max: raw.max,
    target_per_instance: raw.target_per_instance,
    stabilization: { ...DEFAULT_AUTOSCALING.stabilization, ...given(raw.stabilization) },
    source: raw.source,
  };
  if (a.min > a.max) problems.push({ field: 'autoscaling.min', message: `must be at most max (${a.max})` });
  const s = a.source;
  if (s.type === 'galley_queue' && (s.definition === undefined) === (s.group === undefined))
    problems.push({ field: 'autoscaling.source', message: 'needs exactly one of definition or group' });
  return a;
}

/**
 * Checks the rules between the fields of a pipeline as posted and fills its defaults. `input`
 * must already be a `PipelineSpecInput` with the schema's bounds (the server's schema checks
 * them; a complete `PipelineSpec` is one too); answers every problem found (not only the first), each with the dotted path of its
 * field (`processes.parse.health_check.port_index`).
 */
export function parsePipelineSpec(
  input: unknown,
): { ok: true; spec: PipelineSpec } | { ok: false; problems: SpecProblem[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ field: '', message: 'a pipeline must be a JSON object' }] };
  }
  const raw = input as PipelineSpecInput;
  const problems: SpecProblem[] = [];
  const container = raw.container && { image: raw.container.image, network: raw.container.network ?? 'HOST' };
  const processes: Record<string, ProcessSpec> = {};
  for (const [key, process] of Object.entries(raw.processes ?? {})) {
    processes[key] = parseProcess(key, process, container !== undefined, problems);
  }
  const autoscaling = raw.autoscaling && parseAutoscaling(raw.autoscaling, problems);
  if (problems.length > 0) return { ok: false, problems };
  const update_strategy: UpdateStrategy = { ...DEFAULT_UPDATE_STRATEGY, ...given(raw.update_strategy) };
  const spec: PipelineSpec = {
    id: raw.id,
    environment: raw.environment ?? {},
    processes,
    executor_resources: { ...DEFAULT_EXECUTOR_RESOURCES, ...given(raw.executor_resources) },
    instances: raw.instances ?? 1,
    roles: raw.roles ?? [],
    labels: raw.labels ?? {},
    update_strategy,
  };
  if (container) spec.container = container;
  if (autoscaling) {
    spec.autoscaling = autoscaling;
    // The autoscaler owns the count; a pipeline created without one starts at `min`.
    if (raw.instances === undefined) spec.instances = autoscaling.min;
  }
  return { ok: true, spec };
}
