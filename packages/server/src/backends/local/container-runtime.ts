import { createHash } from 'node:crypto';
import type { PullPolicy } from '../../config/container-settings.js';
import { shellQuote } from '../launch-shape.js';

/**
 * What a container of the local backend is, and the command line that runs it: Docker or Podman,
 * driven through its CLI (the same flags for both). Choosing a runtime is container-probe.ts;
 * asking a runtime about its containers (inspect, kill, remove) is container-cli.ts. A supervised container is `<cli> run` in the foreground under the supervisor
 * (attempt-files.ts), so its exit status is recorded like a host command's; with Podman its output
 * goes straight from the container to the attempt's files (`--log-driver passthrough`), so it keeps
 * being written while the server is down. Signals to the supervisor's group reach the container
 * (the CLI proxies them, `--init` hands them to the command); the SIGKILL after the grace period is
 * `<cli> kill`. Containers are named and labelled by attempt (or task) id, so a restarted server
 * finds them again.
 */

export type RuntimeKind = 'docker' | 'podman';

/** A runtime that was probed and can run containers. */
export interface ContainerRuntime {
  kind: RuntimeKind;
  /** Absolute path of its CLI. */
  cli: string;
  /** The environment every CLI call gets (PATH, HOME; CONTAINERS_CONF when Galley's own config is used). */
  env: Record<string, string>;
  /** Whether `--init` works (an init process as PID 1 passes signals to the command). */
  init: boolean;
  /**
   * Podman with the cgroupfs manager: each container gets the parent cgroup `/galley/<name>`, which
   * outlives it, so its peak memory and CPU time are read exactly after it ended.
   */
  cgroupParent: boolean;
  pullPolicy: PullPolicy;
  /** Podman: `--authfile` of pulls; Docker: `--config` directory; null = no credentials. */
  auth: string | null;
  /** For the log and `/clusters`: `podman 4.3.1 (runc, cgroupfs, Galley's containers.conf)`. */
  description: string;
}

/** The outcome of choosing a runtime: none (host mode) says why. */
export type RuntimeChoice = { runtime: ContainerRuntime; why: string } | { runtime: null; why: string };

/** A container to run: its image and program, environment, limits and ports. */
export interface ContainerLaunch {
  image: string;
  /** A /bin/sh script run in the image (`--entrypoint /bin/sh … -c script`); null = the image's entrypoint with `args`. */
  script: string | null;
  args: readonly string[];
  /** The program's complete environment (nothing of the server's). */
  env: Record<string, string>;
  /** Memory limit in MB (0 = none). */
  memMb: number;
  /** CPU limit (0 = none). */
  cpus: number;
  /** Host port → container port; `network: 'host'` publishes nothing (the program binds host ports). */
  ports: readonly { host: number; container: number; protocol: 'tcp' | 'udp' }[];
  network: 'bridge' | 'host';
  /** `--user` of the container (`uid:gid`, from an explicit `--run-as`); undefined = the image's. */
  user?: string;
  /** Variables holding resolved secrets: never written to the env file (see containerEnv). */
  secretNames?: readonly string[];
}

/** What the server keeps of a supervised container (in its directory, file `container`). */
export interface ContainerRecord {
  name: string;
  memMb: number;
  /** The parent cgroup read for its usage (`/galley/<name>`); null when it has none of its own. */
  cgroupParent: string | null;
}

/** A container's state, from `<cli> inspect`. */
export interface ContainerState {
  status: string;
  running: boolean;
  exitCode: number;
  oomKilled: boolean;
  pid: number;
  /** Whether it ever started (its program ran). */
  started: boolean;
  /** When it started and finished (ms); null when it has not. */
  startedAt: number | null;
  finishedAt: number | null;
}

/** The label holding the attempt (or task) id on every container Galley starts. */
export const ID_LABEL = 'galley.id';
/** The label holding the directory of its supervisor (its output, exit status and env file). */
export const DIR_LABEL = 'galley.dir';

/** Files in a supervised container's directory. */
export const CONTAINER_FILE = 'container';
export const ENV_FILE = 'container.env';
export const PULL_LOG = 'pull.log';
export const PULL_FAILED = 'pull-failed';

/** The smallest memory limit Docker and Podman take (MB). */
export const MIN_MEMORY_MB = 6;

/** Exit codes of the CLI itself (not of the program): it failed before the program ran. */
export const CLI_FAILURES = new Set([125, 126, 127]);

/** A container name for `id` (names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`); a hash keeps changed ids apart. */
export function containerName(id: string): string {
  const clean = id.replace(/[^a-zA-Z0-9_.-]/g, '-');
  if (clean === id) return `galley-${id}`;
  return `galley-${clean}-${createHash('sha256').update(id).digest('hex').slice(0, 8)}`;
}

/** The parent cgroup of a container of this runtime, or null when it gets none. */
export function cgroupParentOf(runtime: ContainerRuntime, name: string): string | null {
  return runtime.cgroupParent ? `/galley/${name}` : null;
}

/** Values the runtime's env file cannot carry (it has no quoting): given as `--env NAME=value` instead. */
function envFileSafe(name: string, value: string): boolean {
  return !/[\r\n]/.test(value) && !/^\s/.test(value) && !/[\s=#]/.test(name) && name !== '';
}

/**
 * A container's environment: the env file (`NAME=value` lines, in the attempt's directory, so
 * values are not on a command line) and the few variables it cannot carry (a newline in the value),
 * which `run` gets by name (`--env NAME`) and takes from its own environment (the supervisor's
 * spawn gets them): no value, a secret or not, is ever on a command line other users can read.
 * Resolved secrets (`byName`) go by name too, so no file keeps them after the run; except the
 * names the runtime's own environment uses (`reserved`: PATH, HOME…), which stay in the file.
 */
export function containerEnv(
  env: Record<string, string>,
  byName: readonly string[] = [],
  reserved: ReadonlySet<string> = new Set(),
): { file: string; literal: Record<string, string> } {
  const lines: string[] = [];
  const literal: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const secret = byName.includes(name) && !reserved.has(name);
    if (!secret && envFileSafe(name, value)) lines.push(`${name}=${value}`);
    else literal[name] = value;
  }
  return { file: lines.length > 0 ? `${lines.join('\n')}\n` : '', literal };
}

/**
 * The script the supervisor runs for a container, in the attempt's directory: the pull its policy
 * asks for (a failure writes `pull-failed` and the pull's output to `pull.log` and stderr, exit 125),
 * then `exec <cli> run` in the foreground, so the supervisor records the container's exit status.
 */
export function containerScript(
  runtime: ContainerRuntime,
  id: string,
  name: string,
  launch: ContainerLaunch,
  literal: Record<string, string>,
  dir?: string,
): string {
  const q = shellQuote;
  const cli = q(runtime.cli);
  const image = q(launch.image);
  const exists =
    runtime.kind === 'podman'
      ? `${cli} image exists ${image} >/dev/null 2>&1`
      : `${cli} image inspect ${image} >/dev/null 2>&1`;
  const pullArgs =
    runtime.kind === 'podman'
      ? `${cli} pull${runtime.auth ? ` --authfile ${q(runtime.auth)}` : ''} ${image}`
      : `${cli}${runtime.auth ? ` --config ${q(runtime.auth)}` : ''} pull ${image}`;
  const failed = `cat ${PULL_LOG} >&2; : > ${PULL_FAILED}; exit 125`;
  const pull = `echo ${q(`galley: pulling image ${launch.image}`)} >&2
if ${pullArgs} > ${PULL_LOG} 2>&1; then echo ${q(`galley: pulled image ${launch.image}`)} >&2; else ${failed}; fi`;
  const never = `if ! ${exists}; then echo ${q(
    `Error: image ${launch.image} is not on this host and the image pull policy is never`,
  )} > ${PULL_LOG}; ${failed}; fi`;
  const step =
    runtime.pullPolicy === 'always'
      ? pull
      : runtime.pullPolicy === 'never'
        ? never
        : `if ! ${exists}; then\n${pull}\nfi`;
  const args = runArgs(runtime, id, name, launch, literal, dir);
  return `${step}\nexec ${cli} ${args.map(q).join(' ')}`;
}

/** The arguments of `<cli> run` for a container. */
export function runArgs(
  runtime: ContainerRuntime,
  id: string,
  name: string,
  launch: ContainerLaunch,
  literal: Record<string, string>,
  dir?: string,
): string[] {
  const args = ['run', '--name', name, '--label', `${ID_LABEL}=${id}`];
  if (dir !== undefined) args.push('--label', `${DIR_LABEL}=${dir}`);
  args.push('--pull', 'never');
  if (runtime.init) args.push('--init');
  if (runtime.kind === 'podman') args.push('--log-driver', 'passthrough');
  const parent = cgroupParentOf(runtime, name);
  if (parent) args.push('--cgroup-parent', parent);
  if (launch.memMb > 0) {
    // The runtimes refuse a limit below 6 MB.
    const mb = Math.max(MIN_MEMORY_MB, Math.ceil(launch.memMb));
    args.push('--memory', `${mb}m`, '--memory-swap', `${mb}m`);
  }
  if (launch.cpus > 0) args.push('--cpus', String(Math.round(launch.cpus * 1000) / 1000));
  if (launch.user !== undefined) args.push('--user', launch.user);
  args.push('--env-file', ENV_FILE);
  for (const n of Object.keys(literal)) args.push('--env', n);
  if (launch.network === 'host') args.push('--network', 'host');
  else for (const p of launch.ports) args.push('--publish', `${p.host}:${p.container}/${p.protocol}`);
  if (launch.script !== null) args.push('--entrypoint', '/bin/sh', launch.image, '-c', launch.script);
  else args.push(launch.image, ...launch.args);
  return args;
}
