/**
 * Checking a posted pipeline (Faustian JSON plus Galley's fields) and filling its defaults.
 */
import type { HealthCheckSpec } from './health.js';
import { healthCheckProblems } from './health.js';
import {
  DEFAULT_EXECUTOR_RESOURCES,
  DEFAULT_KILL_GRACE_PERIOD_SECONDS,
  DEFAULT_UPDATE_STRATEGY,
  isCountOrPercent,
  PIPELINE_ID_PATTERN,
} from './spec.js';
import type { PipelineSpec, PortMapping, ProcessSpec, SpecProblem, UpdateStrategy } from './spec.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringMap = (v: unknown): v is Record<string, string> =>
  isObject(v) && Object.values(v).every((x) => typeof x === 'string');
const isNumberAtLeast = (v: unknown, min: number): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= min;

/** Records a problem at `field` when `ok` is false; answers `ok`. */
type Check = (ok: boolean, field: string, message: string) => boolean;

/** The problems found so far, and the `check` that adds to them. */
function collector(): { problems: SpecProblem[]; check: Check } {
  const problems: SpecProblem[] = [];
  return {
    problems,
    check: (ok, field, message) => {
      if (!ok) problems.push({ field, message });
      return ok;
    },
  };
}

/** One entry of `processes`; undefined when it is not even an object. */
function parseProcess(key: string, raw: unknown, hasImage: boolean, check: Check): ProcessSpec | undefined {
  const at = `processes.${key}`;
  if (!check(isObject(raw), at, 'must be an object')) return undefined;
  const p = raw as Json;
  check(PIPELINE_ID_PATTERN.test(key), at, 'process ids must match ^[a-zA-Z0-9-_]+$');
  check(p.id === undefined || p.id === key, `${at}.id`, `must match its key "${key}"`);
  const args = p.arguments ?? [];
  check(
    Array.isArray(args) && args.every((a) => typeof a === 'string'),
    `${at}.arguments`,
    'must be a list of strings',
  );
  check(p.command === undefined || typeof p.command === 'string', `${at}.command`, 'must be a string');
  check(
    hasImage || typeof p.command === 'string',
    `${at}.command`,
    'is required when the pipeline has no container image',
  );
  check(p.shell === undefined || typeof p.shell === 'boolean', `${at}.shell`, 'must be true or false');
  check(
    p.environment === undefined || isStringMap(p.environment),
    `${at}.environment`,
    'must map names to strings',
  );
  const ports = parsePortMappings(at, p.port_mappings ?? [], check);
  const grace = p.kill_grace_period ?? DEFAULT_KILL_GRACE_PERIOD_SECONDS;
  check(isNumberAtLeast(grace, 0), `${at}.kill_grace_period`, 'must be a number of seconds ≥ 0');
  if (p.health_check !== undefined) {
    for (const problem of healthCheckProblems(p.health_check, ports.length)) {
      check(false, `${at}.health_check${problem.field ? `.${problem.field}` : ''}`, problem.message);
    }
  }
  const spec: ProcessSpec = {
    id: key,
    arguments: Array.isArray(args) ? (args as string[]) : [],
    shell: p.shell === true,
    environment: isStringMap(p.environment) ? p.environment : {},
    resources: parseResources(at, p.resources, check),
    port_mappings: ports,
    kill_grace_period: grace as number,
  };
  if (typeof p.command === 'string') spec.command = p.command;
  if (p.health_check !== undefined) spec.health_check = p.health_check as HealthCheckSpec;
  return spec;
}

/** A process's `port_mappings`; mappings with problems are left out (and reported). */
function parsePortMappings(at: string, mappings: unknown, check: Check): PortMapping[] {
  const ports: PortMapping[] = [];
  if (!check(Array.isArray(mappings), `${at}.port_mappings`, 'must be a list')) return ports;
  (mappings as unknown[]).forEach((m, i) => {
    const pm = isObject(m) ? m : {};
    const ok =
      check(
        Number.isInteger(pm.host_port) && (pm.host_port as number) >= 0 && (pm.host_port as number) <= 65535,
        `${at}.port_mappings.${i}.host_port`,
        'must be a port number (0 = any)',
      ) &&
      check(
        pm.container_port === undefined ||
          (Number.isInteger(pm.container_port) && (pm.container_port as number) >= 0),
        `${at}.port_mappings.${i}.container_port`,
        'must be a port number',
      ) &&
      check(
        pm.protocol === undefined || pm.protocol === 'tcp' || pm.protocol === 'udp',
        `${at}.port_mappings.${i}.protocol`,
        "must be 'tcp' or 'udp'",
      );
    if (ok)
      ports.push({
        host_port: pm.host_port as number,
        container_port: (pm.container_port as number | undefined) ?? 0,
        protocol: (pm.protocol as 'tcp' | 'udp' | undefined) ?? 'tcp',
      });
  });
  return ports;
}

/** A process's `resources` ({cpu, mem, disk}; disk defaults to 0). */
function parseResources(at: string, raw: unknown, check: Check): ProcessSpec['resources'] {
  const r = isObject(raw) ? raw : {};
  check(isObject(raw), `${at}.resources`, 'is required: {cpu, mem, disk}');
  check(isNumberAtLeast(r.cpu, 0) && r.cpu > 0, `${at}.resources.cpu`, 'must be a number > 0');
  check(isNumberAtLeast(r.mem, 0) && r.mem > 0, `${at}.resources.mem`, 'must be a number of MB > 0');
  check(
    r.disk === undefined || isNumberAtLeast(r.disk, 0),
    `${at}.resources.disk`,
    'must be a number of MB ≥ 0',
  );
  return { cpu: r.cpu as number, mem: r.mem as number, disk: (r.disk as number | undefined) ?? 0 };
}

function parseStrategy(raw: unknown, check: Check): UpdateStrategy {
  const s = isObject(raw) ? raw : {};
  check(raw === undefined || isObject(raw), 'update_strategy', 'must be an object');
  const merged = {
    ...DEFAULT_UPDATE_STRATEGY,
    ...Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)),
  } as UpdateStrategy;
  check(
    isCountOrPercent(merged.max_surge),
    'update_strategy.max_surge',
    "must be a count ≥ 0 or a percentage like '25%'",
  );
  check(
    isCountOrPercent(merged.max_unavailable),
    'update_strategy.max_unavailable',
    "must be a count ≥ 0 or a percentage like '25%'",
  );
  check(
    isNumberAtLeast(merged.min_healthy_seconds, 0),
    'update_strategy.min_healthy_seconds',
    'must be a number of seconds ≥ 0',
  );
  check(
    isNumberAtLeast(merged.progress_deadline_seconds, 1),
    'update_strategy.progress_deadline_seconds',
    'must be a number of seconds ≥ 1',
  );
  check(typeof merged.auto_rollback === 'boolean', 'update_strategy.auto_rollback', 'must be true or false');
  return merged;
}

/** `container`: undefined when absent (processes then run their command on the host). */
function parseContainer(raw: unknown, check: Check): PipelineSpec['container'] {
  if (raw === undefined) return undefined;
  const c = isObject(raw) ? raw : {};
  check(isObject(raw), 'container', 'must be an object');
  check(typeof c.image === 'string' && c.image !== '', 'container.image', 'must be a non-empty string');
  const network = c.network ?? 'HOST';
  check(network === 'HOST' || network === 'BRIDGE', 'container.network', "must be 'HOST' or 'BRIDGE'");
  return { image: c.image as string, network: network as 'HOST' | 'BRIDGE' };
}

/** `processes`: at least one, each checked. */
function parseProcesses(raw: unknown, hasImage: boolean, check: Check): Record<string, ProcessSpec> {
  const processes: Record<string, ProcessSpec> = {};
  const ok = isObject(raw) && Object.keys(raw).length > 0;
  if (!check(ok, 'processes', 'must name at least one process')) return processes;
  for (const [key, value] of Object.entries(raw as Json)) {
    const process = parseProcess(key, value, hasImage, check);
    if (process) processes[key] = process;
  }
  return processes;
}

/** `executor_resources`, each field defaulting to DEFAULT_EXECUTOR_RESOURCES. */
function parseExecutorResources(raw: unknown, check: Check): PipelineSpec['executor_resources'] {
  check(raw === undefined || isObject(raw), 'executor_resources', 'must be an object');
  const executor = { ...DEFAULT_EXECUTOR_RESOURCES, ...(isObject(raw) ? raw : {}) };
  for (const key of ['cpu', 'mem', 'disk'] as const) {
    check(isNumberAtLeast(executor[key], 0), `executor_resources.${key}`, 'must be a number ≥ 0');
  }
  return executor as PipelineSpec['executor_resources'];
}

/**
 * Checks a pipeline as posted (Faustian JSON plus Galley's fields) and fills its defaults. Answers
 * every problem found (not only the first), each with the dotted path of its field.
 */
export function parsePipelineSpec(
  input: unknown,
): { ok: true; spec: PipelineSpec } | { ok: false; problems: SpecProblem[] } {
  const { problems, check } = collector();
  if (!check(isObject(input), '', 'a pipeline must be a JSON object')) return { ok: false, problems };
  const raw = input as Json;
  check(
    typeof raw.id === 'string' && PIPELINE_ID_PATTERN.test(raw.id),
    'id',
    'is required and must match ^[a-zA-Z0-9-_]+$',
  );
  const container = parseContainer(raw.container, check);
  check(
    raw.environment === undefined || isStringMap(raw.environment),
    'environment',
    'must map names to strings',
  );
  const processes = parseProcesses(raw.processes, container !== undefined, check);
  const executor = parseExecutorResources(raw.executor_resources, check);
  const instances = raw.instances ?? 1;
  check(Number.isInteger(instances) && (instances as number) >= 0, 'instances', 'must be a whole number ≥ 0');
  check(
    raw.roles === undefined || (Array.isArray(raw.roles) && raw.roles.every((r) => typeof r === 'string')),
    'roles',
    'must be a list of strings',
  );
  check(raw.labels === undefined || isStringMap(raw.labels), 'labels', 'must map names to strings');
  const update_strategy = parseStrategy(raw.update_strategy, check);
  if (problems.length > 0) return { ok: false, problems };
  const spec: PipelineSpec = {
    id: raw.id as string,
    environment: (raw.environment as Record<string, string> | undefined) ?? {},
    processes,
    executor_resources: executor,
    instances: instances as number,
    roles: (raw.roles as string[] | undefined) ?? [],
    labels: (raw.labels as Record<string, string> | undefined) ?? {},
    update_strategy,
  };
  if (container) spec.container = container;
  return { ok: true, spec };
}
