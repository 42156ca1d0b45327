import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Backend } from '../backends/backend.js';
import type { Clock } from '../clock.js';
import { ConfigError } from '../config/config.js';
import type { SecretsSettings } from '../config/secrets-options.js';
import type { SqlClient } from '../store/sql-client.js';
import { parseKey } from './cipher.js';
import { SecretResolver } from './resolver.js';
import { type RunAs, resolveRunAs, runAsNote } from './run-as.js';
import { SecretsBackend } from './secrets-backend.js';
import { SecretStore } from './secret-store.js';
import { VaultClient, type VaultSettings } from './vault.js';

/** What the server gets of the secrets machinery. */
export interface SecretsSetup {
  /** Galley-stored secrets; null when no key is configured (the API then answers 409). */
  store: SecretStore | null;
  /** Wraps a backend so its launches get their secrets (SecretsBackend). */
  wrap(backend: Backend): Backend;
  /** Who local host jobs run as. */
  runAs: RunAs;
  close(): void;
}

/** The generated key's file in the data directory (embedded database only). */
export const GENERATED_KEY_FILE = 'secrets.key';

/**
 * The data directory as jobs must see it: the server's alone (0700), so a job run as another
 * user reads neither the database nor another run's output; `runs/` and `pipelines/` are 0711
 * (passable, not listable) so a job reaches its own directory from its working directory.
 */
export async function protectDataDir(dataDir: string): Promise<string[]> {
  const problems: string[] = [];
  const protect = async (dir: string, mode: number) => {
    await mkdir(dir, { recursive: true, mode });
    // A directory this user does not own keeps its mode; the log says so.
    await chmod(dir, mode).catch((err: Error) => problems.push(`${dir}: mode not set (${err.message})`));
  };
  // 0710 stays: the embedded PostgreSQL's group passes in to its own `pg/` (see store/embedded-postgres.ts).
  const groupPasses = ((await stat(dataDir).catch(() => null))?.mode ?? 0) & 0o010;
  await protect(dataDir, 0o700 | groupPasses);
  for (const sub of ['runs', 'pipelines']) await protect(join(dataDir, sub), 0o711);
  return problems;
}

/**
 * The key of Galley-stored secrets: `--secrets-key-file`; else, with the embedded database, one
 * generated at first start in `<dataDir>/secrets.key` (0600; the log says so); else (PostgreSQL,
 * where several replicas must share one key) none.
 */
async function loadKey(
  settings: SecretsSettings,
  dataDir: string,
  embedded: boolean,
  logger: Logger,
): Promise<Buffer | null> {
  if (settings.keyFile !== null) return parseKey(await readFile(settings.keyFile, 'utf8'), settings.keyFile);
  if (!embedded) {
    logger.warn(
      {},
      'secrets: no --secrets-key-file: secret:NAME references and the secrets API are not available',
    );
    return null;
  }
  const path = join(dataDir, GENERATED_KEY_FILE);
  try {
    return parseKey(await readFile(path, 'utf8'), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFile(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  logger.warn(
    { path },
    'secrets: generated the key of Galley-stored secrets in the data directory (keep it with the data; give --secrets-key-file to use your own)',
  );
  return parseKey(await readFile(path, 'utf8'), path);
}

/** Vault's settings with the token (file, else VAULT_TOKEN) or the AppRole files; null = no Vault. */
async function vaultSettings(s: SecretsSettings, env: NodeJS.ProcessEnv): Promise<VaultSettings | null> {
  const v = s.vault;
  if (!v) return null;
  const base = { addr: v.addr, mount: v.mount, namespace: v.namespace, timeoutMs: v.timeoutMs };
  if (v.tokenFile !== null) {
    const token = (await readFile(v.tokenFile, 'utf8')).trim();
    if (token === '') throw new Error(`vaultTokenFile (--vault-token-file): ${v.tokenFile} is empty`);
    return { ...base, auth: { kind: 'token', token } };
  }
  if (v.roleIdFile !== null && v.secretIdFile !== null)
    return { ...base, auth: { kind: 'approle', roleIdFile: v.roleIdFile, secretIdFile: v.secretIdFile } };
  const token = env['VAULT_TOKEN'];
  if (token) return { ...base, auth: { kind: 'token', token } };
  throw new Error(
    'vaultAddr (--vault-addr): Vault needs a login: --vault-token-file, the VAULT_TOKEN env var, or --vault-role-id-file with --vault-secret-id-file',
  );
}

/** Builds the secrets machinery of a server; logs (once) who jobs run as and how secrets are kept. */
export async function setUpSecrets(o: {
  settings: SecretsSettings;
  dataDir: string;
  embedded: boolean;
  sql: SqlClient;
  clock: Clock;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}): Promise<SecretsSetup> {
  try {
    return await build(o);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([(err as Error).message]);
  }
}

async function build(o: Parameters<typeof setUpSecrets>[0]): Promise<SecretsSetup> {
  const logger = o.logger.child({ component: 'secrets' });
  const runAs = resolveRunAs(o.settings.runAs);
  for (const problem of await protectDataDir(o.dataDir))
    logger.warn({ problem }, 'secrets: the data directory could not be closed to jobs');
  if (runAs.switches) logger.info({ user: runAs.name, uid: runAs.uid }, runAsNote(runAs));
  else logger.warn({ user: runAs.name, uid: runAs.uid }, runAsNote(runAs));
  const key = await loadKey(o.settings, o.dataDir, o.embedded, logger);
  const store = key ? new SecretStore(o.sql, key, () => o.clock.now()) : null;
  const vs = await vaultSettings(o.settings, o.env ?? process.env);
  const vault = vs ? new VaultClient(vs, logger, () => o.clock.now()) : null;
  if (vs)
    logger.info(
      { addr: vs.addr, mount: vs.mount, auth: vs.auth.kind },
      'secrets: vault: references resolve through Vault',
    );
  const resolver = new SecretResolver(store ?? new SecretStore(o.sql, null, () => o.clock.now()), vault);
  return {
    store,
    runAs,
    wrap: (backend) =>
      new SecretsBackend(backend, resolver, {
        logger,
        now: () => o.clock.now(),
        // Local: secrets stay out of containers' env files; Mesos: SECRET variables unless told not to.
        secretEnv: backend.kind !== 'mesos' || o.settings.mesosSecretEnv === 'secret',
      }),
    close: () => vault?.close(),
  };
}

/** The local backend's options for `runAs`: a switch of user for host commands, `--user` for containers when explicit. */
export function localRunAs(r: RunAs): {
  runAs?: { name: string; uid: number; gid: number };
  containerUser?: string;
} {
  return {
    ...(r.switches ? { runAs: { name: r.name, uid: r.uid, gid: r.gid } } : {}),
    ...(r.explicit ? { containerUser: `${r.uid}:${r.gid}` } : {}),
  };
}
