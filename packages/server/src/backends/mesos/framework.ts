import { hostname } from 'node:os';
import type { BasicCredentials, FrameworkInfo } from '@galley/mesos';
import type { MesosClusterConfig, MesosSettings } from '../../config/mesos-settings.js';

/**
 * The framework Galley registers on a Mesos cluster (spec §1.2): several roles (MULTI_ROLE),
 * PARTITION_AWARE (unreachable is not lost), TASK_KILLING_STATE, GPU_RESOURCES, checkpointing, a
 * failover timeout so tasks outlive a server restart, and the principal when one is configured.
 */
export function frameworkInfoOf(
  settings: MesosSettings,
  cluster: MesosClusterConfig,
): Omit<FrameworkInfo, 'id'> {
  return {
    user: settings.user,
    name: settings.frameworkName,
    roles: settings.roles,
    ...(settings.principal ? { principal: settings.principal } : {}),
    failover_timeout: settings.failoverTimeoutSeconds,
    checkpoint: true,
    hostname: hostname(),
    capabilities: [
      { type: 'MULTI_ROLE' },
      { type: 'PARTITION_AWARE' },
      { type: 'TASK_KILLING_STATE' },
      { type: 'GPU_RESOURCES' },
    ],
    labels: { labels: [{ key: 'galley.cluster', value: cluster.name }] },
  };
}

/** HTTP basic credentials of the framework; undefined without principal and secret. */
export function credentialsOf(settings: MesosSettings): BasicCredentials | undefined {
  return settings.principal && settings.secret
    ? { principal: settings.principal, secret: settings.secret }
    : undefined;
}

/** The `Authorization` header for agents' endpoints (files API, state), when credentials are set. */
export function authorizationOf(settings: MesosSettings): { authorization?: string } {
  const c = credentialsOf(settings);
  if (!c) return {};
  return { authorization: `Basic ${Buffer.from(`${c.principal}:${c.secret}`).toString('base64')}` };
}
