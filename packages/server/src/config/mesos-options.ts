import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OptionSpecOf } from './option-spec.js';
import type { MesosFlatSettings } from './mesos-settings.js';

/** The Mesos keys of the server's flat config (flags, env vars, config file). */
export type MesosFlags = Omit<MesosFlatSettings, 'backend' | 'cluster'>;

/**
 * The default user of Mesos tasks: the server's own, except root — tasks never run as root unless
 * `--mesos-user root` says so — which gives `nobody`.
 */
function currentUser(): string {
  try {
    const me = userInfo();
    return me.uid === 0 ? 'nobody' : me.username;
  } catch {
    return 'nobody';
  }
}

/**
 * The default command that starts galley-executor on an agent: `node` with the executor of this
 * very installation (`…/@galley/mesos/dist/executor/main.js`), which an agent runs as is when Galley
 * is installed at the same path there (the same package or image on every machine). Elsewhere the
 * operator names what agents have (`galley-executor` after `npm install -g @galley/mesos`), or
 * ships it to them with `--mesos-executor-uri`. An agent that cannot start it falls back to the
 * command executor (backends/mesos/executor-failures.ts).
 */
export function installedExecutorCommand(): string {
  try {
    const main = join(dirname(fileURLToPath(import.meta.resolve('@galley/mesos'))), 'executor', 'main.js');
    return `node ${/^[\w@%+=:,./-]+$/.test(main) ? main : `'${main.replaceAll("'", `'\\''`)}'`}`;
  } catch {
    return 'galley-executor';
  }
}

/** The Mesos settings, in the order the README lists them. */
export const MESOS_OPTIONS: readonly OptionSpecOf<keyof MesosFlags>[] = [
  {
    key: 'mesosMaster',
    flag: '--mesos-master',
    env: 'GALLEY_MESOS_MASTER',
    type: 'string',
    default: () => null,
    description:
      'With `--backend mesos`: the masters of the default cluster, `host:port[,host:port…]`, `zk://host:2181[,…]/mesos`, or a DNS name.',
  },
  {
    key: 'mesosCluster',
    flag: '--mesos-cluster',
    env: 'GALLEY_MESOS_CLUSTERS',
    type: 'string',
    repeatable: true,
    default: () => null,
    description:
      'More Mesos clusters, `name=master` (repeat the flag; in the env var or config file separate them with `;`). An execute picks one with `cluster`.',
  },
  {
    key: 'mesosFrameworkName',
    flag: '--mesos-framework-name',
    env: 'GALLEY_MESOS_FRAMEWORK_NAME',
    type: 'string',
    default: () => 'galley',
    description: 'Name of the framework Galley registers on each Mesos cluster.',
  },
  {
    key: 'mesosUser',
    flag: '--mesos-user',
    env: 'GALLEY_MESOS_USER',
    type: 'string',
    default: currentUser,
    description:
      'Unix user tasks run as on the agents (FrameworkInfo.user and each CommandInfo.user). Default: the user running the server, or `nobody` when that is root: tasks run as root only with `--mesos-user root`.',
  },
  {
    key: 'mesosRoles',
    flag: '--mesos-roles',
    env: 'GALLEY_MESOS_ROLES',
    type: 'string',
    default: () => '*',
    description:
      "Comma-separated roles the framework subscribes with (MULTI_ROLE); the first is the default role of runs, a definition's `role` picks another.",
  },
  {
    key: 'mesosPrincipal',
    flag: '--mesos-principal',
    env: 'GALLEY_MESOS_PRINCIPAL',
    type: 'string',
    default: () => null,
    description:
      "The framework's principal (HTTP basic authentication with `--mesos-secret`, reservations, quota).",
  },
  {
    key: 'mesosSecret',
    flag: '--mesos-secret',
    env: 'GALLEY_MESOS_SECRET',
    type: 'string',
    default: () => null,
    description: "The principal's secret; prefer the env var. Never logged or shown.",
  },
  {
    key: 'mesosFailoverTimeoutS',
    flag: '--mesos-failover-timeout-s',
    env: 'GALLEY_MESOS_FAILOVER_TIMEOUT_S',
    type: 'number',
    min: 1,
    default: () => 604_800,
    description: "How long (s) the master keeps the framework's tasks running while the server is away.",
  },
  {
    key: 'mesosRefuseSeconds',
    flag: '--mesos-refuse-seconds',
    env: 'GALLEY_MESOS_REFUSE_SECONDS',
    type: 'number',
    min: 0,
    default: () => 120,
    description:
      '`refuse_seconds` of declined offers: how long an agent is not offered again (REVIVE on new work clears it).',
  },
  {
    key: 'mesosOfferHoldMs',
    flag: '--mesos-offer-hold-ms',
    env: 'GALLEY_MESOS_OFFER_HOLD_MS',
    type: 'integer',
    min: 1,
    default: () => 1_000,
    description: 'Longest time an offer no waiting run could use is held before it is declined.',
  },
  {
    key: 'mesosContainerizer',
    flag: '--mesos-containerizer',
    env: 'GALLEY_MESOS_CONTAINERIZER',
    type: 'string',
    default: () => 'auto',
    description:
      '`auto`: an image runs only on agents that declare the attribute `galley-images:mesos` or `galley-images:docker` (and have not failed to launch one); without such agents, runs are plain command tasks and the image is recorded, not used. `mesos`: every image runs under the MESOS containerizer (Docker image); `docker`: the DOCKER containerizer; `none`: plain command tasks on every agent.',
  },
  {
    key: 'mesosExecutor',
    flag: '--mesos-executor',
    env: 'GALLEY_MESOS_EXECUTOR',
    type: 'string',
    default: () => 'galley',
    description:
      "`galley` (default): runs without an image share one long-lived galley-executor per agent and role (started once; a launch is then a LAUNCH and a fork); the agents must be able to start `--mesos-executor-command` — an agent that cannot falls back to the command executor, and `/clusters` says so. `command`: each run is a task of Mesos' command executor (an executor process started per task).",
  },
  {
    key: 'mesosExecutorCommand',
    flag: '--mesos-executor-command',
    env: 'GALLEY_MESOS_EXECUTOR_COMMAND',
    type: 'string',
    default: installedExecutorCommand,
    description:
      'With `--mesos-executor galley`: the shell command that starts galley-executor on an agent. Default: `node <this installation>/@galley/mesos/dist/executor/main.js` (agents with Galley installed at the same path); `galley-executor` where agents have `npm install -g @galley/mesos`.',
  },
  {
    key: 'mesosExecutorUri',
    flag: '--mesos-executor-uri',
    env: 'GALLEY_MESOS_EXECUTOR_URI',
    type: 'string',
    default: () => null,
    description:
      "With `--mesos-executor galley`: URIs (comma-separated: http(s)://, file://, hdfs://, s3://, or a path on the agent) the agent's fetcher downloads into the executor's sandbox before `--mesos-executor-command` runs there; archives (.tar.gz, .tgz, .tar, .zip) are extracted. For agents without Galley installed: e.g. a tarball of `node_modules/@galley/mesos` with its dependencies, and the command `node node_modules/@galley/mesos/dist/executor/main.js`.",
  },
  {
    key: 'mesosNetwork',
    flag: '--mesos-network',
    env: 'GALLEY_MESOS_NETWORK',
    type: 'string',
    default: () => 'HOST',
    description:
      "`HOST` (the agent's network; the program listens on `$PORT0`…) or `BRIDGE` (each definition port is mapped from a host port).",
  },
  {
    key: 'mesosCniNetwork',
    flag: '--mesos-cni-network',
    env: 'GALLEY_MESOS_CNI_NETWORK',
    type: 'string',
    default: () => 'mesos-bridge',
    description: 'CNI network of BRIDGE tasks under the MESOS containerizer.',
  },
  {
    key: 'mesosUnreachableTimeoutMs',
    flag: '--mesos-unreachable-timeout-ms',
    env: 'GALLEY_MESOS_UNREACHABLE_TIMEOUT_MS',
    type: 'integer',
    min: 0,
    default: () => 300_000,
    description:
      'A task whose agent is unreachable this long is given up and relaunched elsewhere (and killed if its agent returns).',
  },
  {
    key: 'mesosReconcileIntervalMs',
    flag: '--mesos-reconcile-interval-ms',
    env: 'GALLEY_MESOS_RECONCILE_INTERVAL_MS',
    type: 'integer',
    min: 0,
    default: () => 900_000,
    description:
      'Time between periodic task reconciliations (besides the one after every subscription); 0 = none.',
  },
  {
    key: 'mesosReconcileDelayMs',
    flag: '--mesos-reconcile-delay-ms',
    env: 'GALLEY_MESOS_RECONCILE_DELAY_MS',
    type: 'integer',
    min: 1,
    default: () => 5_000,
    description: 'First wait between explicit reconciliation rounds (doubles up to 60 s).',
  },
  {
    key: 'mesosLaunchTimeoutMs',
    flag: '--mesos-launch-timeout-ms',
    env: 'GALLEY_MESOS_LAUNCH_TIMEOUT_MS',
    type: 'integer',
    min: 1,
    default: () => 60_000,
    description: 'A launched task with no status update this long is reconciled explicitly.',
  },
  {
    key: 'mesosReviveIntervalMs',
    flag: '--mesos-revive-interval-ms',
    env: 'GALLEY_MESOS_REVIVE_INTERVAL_MS',
    type: 'integer',
    min: 0,
    default: () => 5_000,
    description: 'Shortest time between two REVIVEs of one role.',
  },
];
