import { access, constants, mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import type { ContainerSettings } from '../../config/container-settings.js';
import { lastWords, runCli } from './container-cli.js';
import type { RuntimeChoice, RuntimeKind } from './container-runtime.js';
import { keepVerdict, keptVerdict, type PodmanVerdict, verdictKey } from './podman-verdict.js';

/**
 * Choosing the local backend's container runtime, once at start: whether Docker's daemon answers,
 * whether Podman can really run a container here (a probe container, with Podman's configuration
 * and else with Galley's own, since Debian's defaults fail on this kind of host), and the registry
 * logins written where the chosen CLI reads them. Apart from running containers because it runs
 * once and decides, with the reason, whether there are containers at all (host mode otherwise).
 */

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
  /**
   * Settles once the data directory is this server's (its store lock taken): the registry logins
   * are written only then, so a second server started on a directory in use changes nothing there.
   */
  owned?: Promise<void>;
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
  await o.owned;
  const auth = await writeAuth('docker', settings, o.stateDir);
  // A daemon on this machine with the cgroupfs driver (Docker's, or Podman's Docker API) takes
  // `--cgroup-parent /galley/<name>`: the parent outlives the container, so its peak memory is read
  // after a short job ended, and an OOM kill is seen even where the daemon does not report one.
  const info = await runCli({ cli, env }, ['info', '--format', '{{.CgroupDriver}}'], 15_000);
  const host = env['DOCKER_HOST'] ?? '';
  const local = host === '' || host.startsWith('unix://');
  const driver = info.code === 0 ? info.stdout.trim() : 'unknown';
  return {
    runtime: {
      kind: 'docker',
      cli,
      env,
      init: true,
      cgroupParent: local && driver === 'cgroupfs' && process.getuid?.() === 0,
      pullPolicy: settings.pullPolicy,
      auth,
      description: `docker ${version.stdout.trim()} (${driver} cgroups${local ? '' : `, ${host}`})`,
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
  const configs: PodmanConfig[] = [
    { env: { ...o.baseEnv }, what: "Podman's configuration", config: 'podman' },
  ];
  if (await which('runc', o.baseEnv['PATH'] ?? process.env['PATH'])) {
    await writeFile(own, GALLEY_CONTAINERS_CONF);
    configs.push({
      env: { ...o.baseEnv, CONTAINERS_CONF: own },
      what: "Galley's containers.conf",
      config: 'galley',
    });
  }
  // A container ran at an earlier start, and nothing that decides it changed since (podman-verdict.ts).
  const key = await verdictKey(cli, o.baseEnv, GALLEY_CONTAINERS_CONF);
  const kept = key === null ? null : await keptVerdict(o.stateDir, key);
  const keptWith = configs.find((c) => c.config === kept?.config);
  if (kept && keptWith)
    return podmanChoice(
      settings,
      o,
      { cli, ...keptWith, ...kept },
      'a probe container ran at an earlier start, on this boot with this Podman and configuration',
    );
  const failures: string[] = [];
  for (const { env, what, config } of configs) {
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
    const verdict: PodmanVerdict = { config, init, version, oci, manager };
    const choice = await podmanChoice(settings, o, { cli, env, what, ...verdict }, 'a probe container ran');
    // Kept once the data directory is this server's (podmanChoice waited for it).
    if (key !== null)
      await keepVerdict(o.stateDir, key, verdict).catch((err: unknown) =>
        o.logger.warn({ err }, 'local backend: the Podman probe verdict could not be kept'),
      );
    return choice;
  }
  return { runtime: null, why: `it cannot run a container (${failures.join('; ')})` };
}

/** A configuration Podman is probed with: its own, or Galley's containers.conf. */
interface PodmanConfig {
  env: Record<string, string>;
  what: string;
  config: PodmanVerdict['config'];
}

/** Podman as chosen, once the data directory is this server's (the registry logins are written then). */
async function podmanChoice(
  settings: ContainerSettings,
  o: DetectOptions,
  p: { cli: string; env: Record<string, string>; what: string } & PodmanVerdict,
  why: string,
): Promise<RuntimeChoice> {
  await o.owned;
  const auth = await writeAuth('podman', settings, o.stateDir);
  o.logger.debug({ cli: p.cli, config: p.what, init: p.init }, 'local backend: podman runs containers');
  return {
    runtime: {
      kind: 'podman',
      cli: p.cli,
      env: p.env,
      init: p.init,
      cgroupParent: p.manager === 'cgroupfs' && process.getuid?.() === 0,
      pullPolicy: settings.pullPolicy,
      auth,
      description: `podman ${p.version} (${p.oci}, ${p.manager}, ${p.what})`,
    },
    why,
  };
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
