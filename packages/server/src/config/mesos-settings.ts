/**
 * The Mesos settings of the server: which Mesos clusters it schedules on, and how its framework
 * registers and launches there. One validated object, resolved once from the flat config.
 */

/** One Mesos cluster: a name runs choose with `cluster`, and where its masters are. */
export interface MesosClusterConfig {
  name: string;
  /** `host:port[,host:port…]`, `zk://host:2181[,…]/mesos`, or a DNS name (`leader.mesos:5050`). */
  master: string;
}

/**
 * How commands are containerized on the agents: `auto` (an image only on the agents that declare
 * they run images, with the `galley-images` attribute, and have not failed to), the MESOS or the
 * DOCKER containerizer on every agent, or `none` (plain command tasks everywhere).
 */
export type Containerizer = 'auto' | 'mesos' | 'docker' | 'none';

/**
 * Which executor runs a run's command task: Mesos' command executor (one executor process per
 * task), or one shared, long-lived `galley-executor` per agent and role (a launch is a LAUNCH event
 * and a fork).
 */
export type MesosExecutor = 'command' | 'galley';

/** How tasks are networked: the agent's network, or a bridge with port mappings. */
export type MesosNetwork = 'HOST' | 'BRIDGE';

/**
 * Framework and launch settings shared by every Mesos cluster. Durations in ms unless the name
 * says seconds. `null` means "not set".
 */
export interface MesosSettings {
  /** Every configured Mesos cluster; empty when the server only runs locally. */
  clusters: MesosClusterConfig[];
  frameworkName: string;
  /** Unix user the tasks run as on the agents. */
  user: string;
  /** Roles the framework subscribes with (MULTI_ROLE); the first is the default role of runs. */
  roles: string[];
  /** HTTP framework authentication: principal and secret (basic auth); null = none. */
  principal: string | null;
  secret: string | null;
  /** How long the master keeps the framework's tasks while the server is away. */
  failoverTimeoutSeconds: number;
  /** `filters.refuse_seconds` of declined offers and of ACCEPT leftovers when nothing else waits. */
  refuseSeconds: number;
  /** Longest time an offer no run could use is held before it is declined. */
  offerHoldMs: number;
  /**
   * `auto` (images only where agents declare `galley-images`), `mesos` (MESOS containerizer with a
   * Docker image), `docker` (DOCKER containerizer), `none` (plain commands).
   */
  containerizer: Containerizer;
  /** `command` (Mesos' command executor) or `galley` (a shared galley-executor per agent and role). */
  executor: MesosExecutor;
  /** The command line that starts galley-executor on an agent (`ExecutorInfo.command.value`). */
  executorCommand: string;
  /** URIs the agent fetches into the executor's sandbox before the command runs (`CommandInfo.uris`). */
  executorUris: string[];
  network: MesosNetwork;
  /** CNI network of BRIDGE tasks under the MESOS containerizer. */
  cniNetwork: string;
  /** A task unreachable this long is given up (host failure, relaunched elsewhere, killed if it returns). */
  unreachableTimeoutMs: number;
  /** Time between periodic reconciliations (0 disables them). */
  reconcileIntervalMs: number;
  /** First wait between explicit reconciliation rounds (doubles up to 60 s). */
  reconcileDelayMs: number;
  /** A launched task with no status update this long is reconciled explicitly. */
  launchTimeoutMs: number;
  /** Shortest time between two REVIVEs of one role. */
  reviveIntervalMs: number;
}

/** The flat settings this module reads (the `mesos*` keys of the server's FlatConfig). */
export interface MesosFlatSettings {
  backend: string;
  cluster: string;
  mesosMaster: string | null;
  mesosCluster: string | null;
  mesosFrameworkName: string;
  mesosUser: string;
  mesosRoles: string;
  mesosPrincipal: string | null;
  mesosSecret: string | null;
  mesosFailoverTimeoutS: number;
  mesosRefuseSeconds: number;
  mesosOfferHoldMs: number;
  mesosContainerizer: string;
  mesosExecutor: string;
  mesosExecutorCommand: string;
  mesosExecutorUri: string | null;
  mesosNetwork: string;
  mesosCniNetwork: string;
  mesosUnreachableTimeoutMs: number;
  mesosReconcileIntervalMs: number;
  mesosReconcileDelayMs: number;
  mesosLaunchTimeoutMs: number;
  mesosReviveIntervalMs: number;
}

/** The name of the local cluster when the default cluster is a Mesos one. */
export const LOCAL_CLUSTER = 'local';

/** The default cluster's name with `--backend mesos` when `--cluster` is left at `local`. */
export const DEFAULT_MESOS_CLUSTER = 'mesos';

/**
 * Reads `name=master` entries separated by `;` (what repeated `--mesos-cluster` flags become).
 * Answers the clusters, and pushes one line per bad entry to `problems`.
 */
export function parseClusterList(text: string, problems: string[]): MesosClusterConfig[] {
  const out: MesosClusterConfig[] = [];
  for (const raw of text.split(';')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const name = eq < 0 ? '' : entry.slice(0, eq).trim();
    const master = eq < 0 ? '' : entry.slice(eq + 1).trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || master === '') {
      problems.push(`mesosCluster: expected name=master (e.g. east=zk://zk1:2181/mesos), got "${entry}"`);
      continue;
    }
    out.push({ name, master });
  }
  return out;
}

/**
 * Resolves the Mesos settings and the default cluster's name from the flat config. Problems
 * (bad values, a Mesos backend without a master, clashing names) are pushed to `problems`.
 */
export function resolveMesosSettings(
  f: MesosFlatSettings,
  problems: string[],
): { settings: MesosSettings; defaultCluster: string } {
  const clusters: MesosClusterConfig[] = [];
  let defaultCluster = f.cluster;
  if (f.backend === 'mesos') {
    if (defaultCluster === LOCAL_CLUSTER) defaultCluster = DEFAULT_MESOS_CLUSTER;
    if (!f.mesosMaster)
      problems.push('mesosMaster: --backend mesos needs --mesos-master (or GALLEY_MESOS_MASTER)');
    else clusters.push({ name: defaultCluster, master: f.mesosMaster });
  }
  clusters.push(...parseClusterList(f.mesosCluster ?? '', problems));
  const names = new Set<string>([f.backend === 'mesos' ? LOCAL_CLUSTER : defaultCluster]);
  for (const c of clusters) {
    if (names.has(c.name)) problems.push(`mesosCluster: the cluster name "${c.name}" is used twice`);
    names.add(c.name);
  }
  const roles = f.mesosRoles
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (roles.length === 0) problems.push('mesosRoles: at least one role is needed (e.g. "*")');
  if (new Set(roles).size !== roles.length)
    problems.push(`mesosRoles: a role is listed twice in "${f.mesosRoles}"`);
  const containerizer = f.mesosContainerizer.toLowerCase();
  if (!['auto', 'mesos', 'docker', 'none'].includes(containerizer))
    problems.push(`mesosContainerizer: expected auto, mesos, docker or none, got "${f.mesosContainerizer}"`);
  const executor = f.mesosExecutor.toLowerCase();
  if (executor !== 'command' && executor !== 'galley')
    problems.push(`mesosExecutor: expected command or galley, got "${f.mesosExecutor}"`);
  if (executor === 'galley' && f.mesosExecutorCommand.trim() === '')
    problems.push(
      'mesosExecutorCommand: --mesos-executor galley needs the command that starts galley-executor',
    );
  const executorUris = (f.mesosExecutorUri ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  for (const uri of executorUris) {
    if (uri.length > 2048 || !/^(https?:\/\/|file:\/\/|hdfs:\/\/|s3a?:\/\/|\/)/.test(uri))
      problems.push(
        `mesosExecutorUri: expected http(s)://, file://, hdfs://, s3:// URIs or absolute paths (at most 2048 characters each), got "${uri.slice(0, 100)}"`,
      );
  }
  if (executorUris.length > 16) problems.push('mesosExecutorUri: at most 16 URIs');
  const network = f.mesosNetwork.toUpperCase();
  if (network !== 'HOST' && network !== 'BRIDGE')
    problems.push(`mesosNetwork: expected HOST or BRIDGE, got "${f.mesosNetwork}"`);
  if (f.mesosSecret !== null && f.mesosPrincipal === null)
    problems.push('mesosSecret: a secret needs a principal (--mesos-principal)');
  return {
    defaultCluster,
    settings: {
      clusters,
      frameworkName: f.mesosFrameworkName,
      user: f.mesosUser,
      roles,
      principal: f.mesosPrincipal,
      secret: f.mesosSecret,
      failoverTimeoutSeconds: f.mesosFailoverTimeoutS,
      refuseSeconds: f.mesosRefuseSeconds,
      offerHoldMs: f.mesosOfferHoldMs,
      containerizer: containerizer as Containerizer,
      executor: executor as MesosExecutor,
      executorCommand: f.mesosExecutorCommand.trim(),
      executorUris,
      network: network as MesosNetwork,
      cniNetwork: f.mesosCniNetwork,
      unreachableTimeoutMs: f.mesosUnreachableTimeoutMs,
      reconcileIntervalMs: f.mesosReconcileIntervalMs,
      reconcileDelayMs: f.mesosReconcileDelayMs,
      launchTimeoutMs: f.mesosLaunchTimeoutMs,
      reviveIntervalMs: f.mesosReviveIntervalMs,
    },
  };
}
