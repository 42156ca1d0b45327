import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ContainerSettings } from '../../config/container-settings.js';
import { chooseRuntime } from './container-probe.js';
import type { RuntimeChoice } from './container-runtime.js';
import { DEFAULT_INHERITED_ENV } from './local-backend.js';

/**
 * The local backend's container runtime, chosen once at start (before any backend is made, so
 * every leadership term's backend gets the same): `<dataDir>/containers` holds the probe's root,
 * Galley's containers.conf and the registry logins. Throws when `docker` or `podman` was asked
 * for and cannot run containers.
 */
export async function chooseLocalRuntime(
  settings: ContainerSettings,
  dataDir: string,
  logger: Logger,
  owned?: Promise<void>,
): Promise<RuntimeChoice> {
  const stateDir = join(dataDir, 'containers');
  // The data directory as the store makes it (it may come first: the two start together).
  await mkdir(dataDir, { recursive: true });
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const baseEnv: Record<string, string> = {};
  for (const name of [...DEFAULT_INHERITED_ENV, 'CONTAINERS_CONF', 'XDG_RUNTIME_DIR', 'DOCKER_HOST']) {
    const value = process.env[name];
    if (value !== undefined) baseEnv[name] = value;
  }
  const choice = await chooseRuntime(settings, { stateDir, baseEnv, logger, owned });
  if (choice.runtime)
    logger.info(
      { runtime: choice.runtime.description, why: choice.why },
      'local backend: container runtime chosen',
    );
  else logger.info({ why: choice.why }, 'local backend: no container runtime (host mode)');
  return choice;
}
