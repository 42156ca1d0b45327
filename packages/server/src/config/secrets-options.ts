import type { OptionSpecOf } from './option-spec.js';

/** The secrets and job-isolation keys of the server's flat config (flags, env vars, config file). */
export interface SecretsFlags {
  secretsKeyFile: string | null;
  vaultAddr: string | null;
  vaultMount: string;
  vaultNamespace: string | null;
  vaultTokenFile: string | null;
  vaultRoleIdFile: string | null;
  vaultSecretIdFile: string | null;
  vaultTimeoutMs: number;
  runAs: string | null;
  mesosSecretEnv: string;
}

/** Secrets into tasks and who local jobs run as (issue 14), in the order the README lists them. */
export const SECRETS_OPTIONS: readonly OptionSpecOf<keyof SecretsFlags>[] = [
  {
    key: 'secretsKeyFile',
    flag: '--secrets-key-file',
    env: 'GALLEY_SECRETS_KEY_FILE',
    type: 'string',
    default: () => null,
    description:
      'File holding the 32-byte AES-256-GCM key of Galley-stored secrets (`secret:NAME`), as 64 hex digits or base64. Unset with the embedded database: a key is generated in `<data-dir>/secrets.key` (mode 0600) at first start and the log says so; unset with `--database-url`: secrets are not configured (the secrets API answers 409).',
  },
  {
    key: 'vaultAddr',
    flag: '--vault-addr',
    env: 'GALLEY_VAULT_ADDR',
    type: 'string',
    default: () => null,
    description:
      'Vault for `vault:PATH#KEY` env values, `http(s)://host:port`. Auth: `--vault-token-file` (or the VAULT_TOKEN env var), else AppRole with `--vault-role-id-file` and `--vault-secret-id-file`. Unset: `vault:` references fail their attempt.',
  },
  {
    key: 'vaultMount',
    flag: '--vault-mount',
    env: 'GALLEY_VAULT_MOUNT',
    type: 'string',
    default: () => 'secret',
    description: 'The KV version 2 secrets engine `vault:` references read from.',
  },
  {
    key: 'vaultNamespace',
    flag: '--vault-namespace',
    env: 'GALLEY_VAULT_NAMESPACE',
    type: 'string',
    default: () => null,
    description: 'Vault Enterprise namespace (sent as `X-Vault-Namespace`).',
  },
  {
    key: 'vaultTokenFile',
    flag: '--vault-token-file',
    env: 'GALLEY_VAULT_TOKEN_FILE',
    type: 'string',
    default: () => null,
    description: 'File holding the Vault token; it is renewed while renewable. Never logged.',
  },
  {
    key: 'vaultRoleIdFile',
    flag: '--vault-role-id-file',
    env: 'GALLEY_VAULT_ROLE_ID_FILE',
    type: 'string',
    default: () => null,
    description: 'AppRole login: file holding the role_id.',
  },
  {
    key: 'vaultSecretIdFile',
    flag: '--vault-secret-id-file',
    env: 'GALLEY_VAULT_SECRET_ID_FILE',
    type: 'string',
    default: () => null,
    description: 'AppRole login: file holding the secret_id.',
  },
  {
    key: 'vaultTimeoutMs',
    flag: '--vault-timeout-ms',
    env: 'GALLEY_VAULT_TIMEOUT_MS',
    type: 'integer',
    min: 100,
    default: () => 5_000,
    description: "Each Vault request's timeout; a read that times out fails its attempt (Vault unreachable).",
  },
  {
    key: 'runAs',
    flag: '--run-as',
    env: 'GALLEY_RUN_AS',
    type: 'string',
    default: () => null,
    description:
      "Unix user (name or uid) local host-mode jobs run as; containers then run with `--user` of it. Default: `nobody` when the server runs as root, else the server's own user (said at start: jobs then share the server's user).",
  },
  {
    key: 'mesosSecretEnv',
    flag: '--mesos-secret-env',
    env: 'GALLEY_MESOS_SECRET_ENV',
    type: 'string',
    choices: ['secret', 'value'],
    default: () => 'secret',
    description:
      "How resolved secrets reach Mesos tasks: `secret` = `Environment.Variable` of type SECRET (the agent's secret resolver gives the value), `value` = plain env values (agents without one).",
  },
];

/** The secrets settings as the server uses them. */
export interface SecretsSettings {
  keyFile: string | null;
  vault: {
    addr: string;
    mount: string;
    namespace: string | null;
    tokenFile: string | null;
    roleIdFile: string | null;
    secretIdFile: string | null;
    timeoutMs: number;
  } | null;
  /** As given; null = the default (see SECRETS_OPTIONS `runAs`). */
  runAs: string | null;
  mesosSecretEnv: 'secret' | 'value';
}

/** The settings from the flat config; problems (an AppRole half given) are pushed. */
export function resolveSecretsSettings(f: SecretsFlags, problems: string[]): SecretsSettings {
  if ((f.vaultRoleIdFile === null) !== (f.vaultSecretIdFile === null))
    problems.push(
      'vaultRoleIdFile/vaultSecretIdFile: an AppRole login needs both --vault-role-id-file and --vault-secret-id-file',
    );
  if (f.vaultAddr !== null && !/^https?:\/\/[^\s/]+\/?$/.test(f.vaultAddr))
    problems.push(
      `vaultAddr (--vault-addr): must be http(s)://host:port, got ${JSON.stringify(f.vaultAddr)}`,
    );
  return {
    keyFile: f.secretsKeyFile,
    vault:
      f.vaultAddr === null
        ? null
        : {
            addr: f.vaultAddr.replace(/\/$/, ''),
            mount: f.vaultMount.replace(/^\/+|\/+$/g, ''),
            namespace: f.vaultNamespace,
            tokenFile: f.vaultTokenFile,
            roleIdFile: f.vaultRoleIdFile,
            secretIdFile: f.vaultSecretIdFile,
            timeoutMs: f.vaultTimeoutMs,
          },
    runAs: f.runAs,
    mesosSecretEnv: f.mesosSecretEnv === 'value' ? 'value' : 'secret',
  };
}
