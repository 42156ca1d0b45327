import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import type { ContainerSettings, PullPolicy } from '../../config/container-settings.js';
import { shellQuote } from '../launch-shape.js';

/**
 * The container runtime of the local backend: Docker or Podman, driven through its CLI (the same
 * flags for both). A supervised container is `<cli> run` in the foreground under the supervisor
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

/** Runs the runtime's CLI; answers its exit code and output (never throws for a failing command). */
export function runCli(
  runtime: Pick<ContainerRuntime, 'cli' | 'env'>,
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      runtime.cli,
      args,
      { env: runtime.env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr || (err && !stderr ? err.message : '')),
        });
      },
    );
  });
}

/** The container's state; null when there is no such container. */
export async function inspectContainer(
  runtime: ContainerRuntime,
  name: string,
): Promise<ContainerState | null> {
  const r = await runCli(
    runtime,
    ['inspect', '--type', 'container', '--format', '{{json .State}}', name],
    30_000,
  );
  if (r.code !== 0) return null;
  try {
    const s = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    const time = (v: unknown): number | null => {
      const ms = Date.parse(String(v ?? ''));
      return Number.isFinite(ms) && ms > 0 ? ms : null;
    };
    const startedAt = time(s['StartedAt']);
    return {
      status: String(s['Status'] ?? ''),
      running: s['Running'] === true,
      exitCode: Number(s['ExitCode'] ?? 0),
      oomKilled: s['OOMKilled'] === true,
      pid: Number(s['Pid'] ?? 0),
      started: startedAt !== null,
      startedAt,
      finishedAt: time(s['FinishedAt']),
    };
  } catch {
    return null;
  }
}

/** Sends `signal` to the container's main process; answers whether it was sent. */
export async function killContainer(
  runtime: ContainerRuntime,
  name: string,
  signal: 'TERM' | 'KILL',
): Promise<boolean> {
  return (await runCli(runtime, ['kill', '--signal', signal, name], 30_000)).code === 0;
}

/** Removes the container (killing it if it still runs); a missing one is not an error. */
export async function removeContainer(runtime: ContainerRuntime, name: string): Promise<void> {
  await runCli(runtime, ['rm', '--force', name], 60_000);
}

/**
 * Ended containers (exited, or created and never started) whose supervisor directory is under
 * `prefix`: name and directory.
 */
export async function endedContainers(
  runtime: ContainerRuntime,
  prefix: string,
): Promise<{ name: string; dir: string }[]> {
  const r = await runCli(runtime, [
    'ps',
    '--all',
    '--filter',
    `label=${DIR_LABEL}`,
    '--filter',
    'status=exited',
    '--filter',
    'status=created',
    '--format',
    `{{.Names}}\t{{index .Labels "${DIR_LABEL}"}}`,
  ]);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((f): f is [string, string] => f.length === 2 && f[1]!.startsWith(prefix))
    .map(([name, dir]) => ({ name, dir }));
}

/** The command that runs `script` in the container (a pipeline process's COMMAND health check). */
export function execCommand(
  runtime: ContainerRuntime,
  name: string,
  script: string,
): { file: string; args: string[]; env: Record<string, string> } {
  return { file: runtime.cli, args: ['exec', name, '/bin/sh', '-c', script], env: runtime.env };
}

// ---- choosing a runtime ----

/** Finds `name` on PATH; null when it is not there. */
async function which(name: string, path: string | undefined): Promise<string | null> {
  for (const dir of (path ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Podman's configuration where its defaults cannot run a container (crun on hybrid cgroups, or
 * a setrlimit the runtime may not raise): runc, the cgroupfs manager, no default ulimits.
 */
const GALLEY_CONTAINERS_CONF = `# Written by Galley: used when Podman's own configuration cannot run a container here.
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
`;

export interface DetectOptions {
  /** Where Galley keeps its runtime files (probe root, containers.conf, registry logins). */
  stateDir: string;
  /** The server's environment the CLI needs (PATH, HOME, …). */
  baseEnv: Record<string, string>;
  logger: Logger;
}

/**
 * Chooses the runtime of `settings.runtime`: `none` is host mode; `docker` and `podman` must work
 * or the server does not start (an error says why); `auto` takes Docker when its daemon answers,
 * else Podman when a probe container runs (with its own configuration, else with Galley's), else
 * host mode. Registry logins are written for the chosen runtime (mode 0600), never logged.
 */
export async function chooseRuntime(settings: ContainerSettings, o: DetectOptions): Promise<RuntimeChoice> {
  if (settings.runtime === 'none') return { runtime: null, why: '--container-runtime is none' };
  const tried: string[] = [];
  if (settings.runtime === 'docker' || settings.runtime === 'auto') {
    const docker = await probeDocker(settings, o);
    if (docker.runtime) return docker;
    if (settings.runtime === 'docker') throw new Error(`--container-runtime docker: ${docker.why}`);
    tried.push(`Docker: ${docker.why}`);
  }
  const podman = await probePodman(settings, o);
  if (podman.runtime) return podman;
  if (settings.runtime === 'podman') throw new Error(`--container-runtime podman: ${podman.why}`);
  tried.push(`Podman: ${podman.why}`);
  return { runtime: null, why: `no container runtime works here (${tried.join('; ')})` };
}

async function probeDocker(settings: ContainerSettings, o: DetectOptions): Promise<RuntimeChoice> {
  const cli = await which('docker', o.baseEnv['PATH']);
  if (!cli) return { runtime: null, why: 'docker is not installed' };
  const env = { ...o.baseEnv };
  const version = await runCli({ cli, env }, ['version', '--format', '{{.Server.Version}}'], 15_000);
  if (version.code !== 0)
    return { runtime: null, why: `its daemon does not answer (${lastWords(version.stderr)})` };
  const auth = await writeAuth('docker', settings, o.stateDir);
  return {
    runtime: {
      kind: 'docker',
      cli,
      env,
      init: true,
      cgroupParent: false,
      pullPolicy: settings.pullPolicy,
      auth,
      description: `docker ${version.stdout.trim()}`,
    },
    why: 'the Docker daemon answers',
  };
}

async function probePodman(settings: ContainerSettings, o: DetectOptions): Promise<RuntimeChoice> {
  const cli = await which('podman', o.baseEnv['PATH']);
  if (!cli) return { runtime: null, why: 'podman is not installed' };
  const root = join(o.stateDir, 'probe-root');
  await mkdir(root, { recursive: true });
  const own = join(o.stateDir, 'containers.conf');
  const configs: { env: Record<string, string>; what: string }[] = [
    { env: { ...o.baseEnv }, what: "Podman's configuration" },
  ];
  if (await which('runc', o.baseEnv['PATH'] ?? process.env['PATH'])) {
    await writeFile(own, GALLEY_CONTAINERS_CONF);
    configs.push({ env: { ...o.baseEnv, CONTAINERS_CONF: own }, what: "Galley's containers.conf" });
  }
  const failures: string[] = [];
  for (const { env, what } of configs) {
    const runtime = { cli, env };
    // A container whose program does not exist: the runtime made it (namespaces, cgroups, limits,
    // the init) when the error is about the missing program, not the CLI's own 125/126.
    const probe = async (init: boolean) =>
      runCli(
        runtime,
        [
          'run',
          '--rm',
          ...(init ? ['--init'] : []),
          '--memory',
          '64m',
          '--cpus',
          '0.5',
          '--rootfs',
          root,
          '/galley-probe',
        ],
        60_000,
      );
    let init = true;
    let r = await probe(true);
    if (r.code === 125 || r.code === 126 || r.code < 0) {
      const plain = await probe(false);
      if (plain.code !== 125 && plain.code !== 126 && plain.code >= 0) {
        init = false;
        r = plain;
      }
    }
    if (r.code === 125 || r.code === 126 || r.code < 0) {
      failures.push(`with ${what}: ${lastWords(r.stderr)}`);
      continue;
    }
    const info = await runCli(
      runtime,
      ['info', '--format', '{{.Version.Version}} {{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}}'],
      30_000,
    );
    const [version = '?', oci = '?', manager = '?'] = info.stdout.trim().split(' ');
    const auth = await writeAuth('podman', settings, o.stateDir);
    o.logger.debug({ cli, config: what, init }, 'local backend: podman runs containers');
    return {
      runtime: {
        kind: 'podman',
        cli,
        env,
        init,
        cgroupParent: manager === 'cgroupfs' && process.getuid?.() === 0,
        pullPolicy: settings.pullPolicy,
        auth,
        description: `podman ${version} (${oci}, ${manager}, ${what})`,
      },
      why: 'a probe container ran',
    };
  }
  return { runtime: null, why: `it cannot run a container (${failures.join('; ')})` };
}

/** The last line of a CLI's error output, without its `Error: ` prefix. */
export function lastWords(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const error = [...lines].reverse().find((l) => /^Error[: ]/i.test(l)) ?? lines.at(-1) ?? 'no message';
  return error.replace(/^Error:\s*/i, '').slice(0, 500);
}

/**
 * Writes the registry logins where the runtime reads them: Podman's auth file, or a Docker
 * config directory (both `{"auths": {registry: {"auth": base64(user:password)}}}`), mode 0600.
 * Null when there are none.
 */
async function writeAuth(
  kind: RuntimeKind,
  settings: ContainerSettings,
  stateDir: string,
): Promise<string | null> {
  if (settings.credentials.length === 0) return null;
  const auths: Record<string, { auth: string }> = {};
  for (const c of settings.credentials)
    auths[c.registry] = { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') };
  const text = `${JSON.stringify({ auths }, null, 2)}\n`;
  if (kind === 'podman') {
    const file = join(stateDir, 'auth.json');
    await writeFile(file, text, { mode: 0o600 });
    return file;
  }
  const dir = join(stateDir, 'docker');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'config.json'), text, { mode: 0o600 });
  return dir;
}
