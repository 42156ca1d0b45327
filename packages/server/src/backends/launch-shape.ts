import { type Demand, drainEnvironment, type PipelineSpec, type ProcessSpec } from '@galley/core';

/**
 * What one launch of an instance looks like to a backend, from the pipeline spec: the command line
 * of each process, its environment, and what the whole group needs from a node. Pure.
 */

/** Quotes a word for /bin/sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The /bin/sh script that runs a process on a host: with `shell: true` the `command` is a shell
 * script and `arguments` are its positional parameters (`$1`…); otherwise `command` is the
 * program and `arguments` its arguments (`exec`, so signals reach it). Null when the process has
 * no `command` (it needs its image's entrypoint, which only a containerizer knows).
 */
export function processScript(p: ProcessSpec): string | null {
  if (p.command === undefined) return null;
  const args = p.arguments.map(shellQuote).join(' ');
  if (p.shell) return p.arguments.length > 0 ? `set -- ${args}\n${p.command}` : p.command;
  return `exec ${shellQuote(p.command)}${args ? ` ${args}` : ''}`;
}

/** Where a launch runs, for its processes' environment. */
export interface LaunchContext {
  instanceId: string;
  launchId: string;
  hostname: string;
  /** Host ports of the process, in the order of its `port_mappings`. */
  ports: readonly number[];
}

/**
 * A process's environment: the pipeline's `environment`, then the process's, then its drain
 * contract's (`GALLEY_DRAIN`…, core `drainEnvironment`), then Galley's:
 * `GALLEY_PIPELINE_ID`, `GALLEY_INSTANCE_ID`, `GALLEY_LAUNCH_ID`, `GALLEY_PROCESS`, `HOST`, and
 * for its ports `PORT0…PORTn` (host ports in `port_mappings` order), `PORTS` (comma-separated)
 * and `PORT_<container_port>`.
 */
export function processEnvironment(
  spec: PipelineSpec,
  processId: string,
  ctx: LaunchContext,
): Record<string, string> {
  const p = spec.processes[processId];
  const env: Record<string, string> = {
    ...spec.environment,
    ...(p?.environment ?? {}),
    ...drainEnvironment(p?.drain, ctx.instanceId, spec.autoscaling?.source),
  };
  env['GALLEY_PIPELINE_ID'] = spec.id;
  env['GALLEY_INSTANCE_ID'] = ctx.instanceId;
  env['GALLEY_LAUNCH_ID'] = ctx.launchId;
  env['GALLEY_PROCESS'] = processId;
  env['HOST'] = ctx.hostname;
  ctx.ports.forEach((port, i) => {
    env[`PORT${i}`] = String(port);
    const container = p?.port_mappings[i]?.container_port;
    if (container) env[`PORT_${container}`] = String(port);
  });
  if (ctx.ports.length > 0) env['PORTS'] = ctx.ports.join(',');
  return env;
}

/** Port needs of a process: fixed host ports, and how many more to pick. */
export function portNeeds(p: ProcessSpec): { fixed: number[]; dynamic: number } {
  const fixed = p.port_mappings.filter((m) => m.host_port !== 0).map((m) => m.host_port);
  return { fixed, dynamic: p.port_mappings.length - fixed.length };
}

/**
 * The placement demand of one launch: every process's resources summed, plus the executor's
 * (`withExecutor`: Mesos' default executor), and their ports; role = the pipeline's first role.
 */
export function launchDemand(
  spec: PipelineSpec,
  launchId: string,
  queuedAt: number,
  withExecutor: boolean,
  defaultRole?: string,
): Demand {
  const processes = Object.values(spec.processes);
  const exec = withExecutor ? spec.executor_resources : { cpu: 0, mem: 0, disk: 0 };
  const fixedPorts = processes.flatMap((p) => portNeeds(p).fixed);
  const role = spec.roles[0] ?? defaultRole;
  return {
    id: launchId,
    cpus: processes.reduce((sum, p) => sum + p.resources.cpu, exec.cpu),
    memMb: processes.reduce((sum, p) => sum + p.resources.mem, exec.mem),
    diskMb: processes.reduce((sum, p) => sum + p.resources.disk, exec.disk),
    gpus: 0,
    ports: processes.reduce((sum, p) => sum + portNeeds(p).dynamic, 0),
    ...(fixedPorts.length > 0 ? { fixedPorts } : {}),
    ...(role !== undefined ? { role } : {}),
    queuedAt,
  };
}

/**
 * Splits the ports placement chose for a launch (fixed ports in demand order, then the picked ones
 * ascending) into each process's host ports, in its `port_mappings` order.
 */
export function portsByProcess(spec: PipelineSpec, placed: readonly number[]): Record<string, number[]> {
  const processes = Object.values(spec.processes);
  const fixedCount = processes.reduce((n, p) => n + portNeeds(p).fixed.length, 0);
  const picked = placed.slice(fixedCount);
  let next = 0;
  const out: Record<string, number[]> = {};
  for (const p of processes) {
    out[p.id] = p.port_mappings.map((m) => (m.host_port !== 0 ? m.host_port : (picked[next++] ?? 0)));
  }
  return out;
}
