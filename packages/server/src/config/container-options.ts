import type { ContainerFlatSettings } from './container-settings.js';
import type { OptionSpecOf } from './option-spec.js';

/** The container keys of the server's flat config (flags, env vars, config file). */
export type ContainerFlags = ContainerFlatSettings;

/** The local backend's container and port settings, in the order the README lists them. */
export const CONTAINER_OPTIONS: readonly OptionSpecOf<keyof ContainerFlags>[] = [
  {
    key: 'containerRuntime',
    flag: '--container-runtime',
    env: 'GALLEY_CONTAINER_RUNTIME',
    type: 'string',
    choices: ['auto', 'docker', 'podman', 'none'],
    default: () => 'auto',
    description:
      'How the local backend runs images: `auto` = Docker when its daemon answers, else Podman when it can run a container (probed at start), else `none`: commands run on this host without containers (host mode, announced at start and in `/clusters`).',
  },
  {
    key: 'imagePullPolicy',
    flag: '--image-pull-policy',
    env: 'GALLEY_IMAGE_PULL_POLICY',
    type: 'string',
    choices: ['if-not-present', 'always', 'never'],
    default: () => 'if-not-present',
    description:
      'When the local backend pulls an image before its container starts. A pull that fails ends the attempt ("image pull failed: …").',
  },
  {
    key: 'registryCredentials',
    flag: '--registry-credentials',
    env: 'GALLEY_REGISTRY_CREDENTIALS',
    type: 'string',
    repeatable: true,
    default: () => null,
    description:
      'Registry logins for pulls, `registry=user:password` (repeat the flag; in the env var or config file separate them with `;`). Never logged nor answered.',
  },
  {
    key: 'localPorts',
    flag: '--local-ports',
    env: 'GALLEY_LOCAL_PORTS',
    type: 'string',
    default: () => '31000-32000',
    description:
      "Host ports the local backend hands out (`PORT0…`, published to the definition's container ports), `lo-hi[,lo-hi…]`; `none` = no ports (runs that need one are refused).",
  },
];
