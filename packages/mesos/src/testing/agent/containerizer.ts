import type { AgentContainerizer } from '../options.js';
import type { JsonObject } from '../model/world.js';
import { objectField } from '../wire/call-parsing.js';

/**
 * What an agent's containerizer flags let it run, and how a real Mesos 1.12 agent fails what they
 * do not (read from the apache/mesos source the recordings were made with):
 *
 * - A MESOS container with an image whose type has no `--image_providers` entry: the provisioner
 *   fails the launch (`provisioner.cpp`: "Unsupported container image type: " + the enum's number,
 *   DOCKER = 2, APPC = 1), and the agent sends TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED,
 *   "Failed to launch container: Unsupported container image type: 2" (`slave.cpp`
 *   `executorLaunched`). A stock agent (no image providers) fails every image this way.
 * - A container no enabled containerizer supports (a DOCKER ContainerInfo without `docker` in
 *   `--containerizers`, or no `mesos` for a MESOS or plain task): every containerizer answers
 *   NOT_SUPPORTED, the agent only logs "None of the enabled containerizers (…) could create a
 *   container", and the executor's termination finds an unknown container: TASK_FAILED,
 *   REASON_EXECUTOR_TERMINATED, "Abnormal executor termination: unknown container"
 *   (`sendExecutorTerminatedStatusUpdate`).
 *
 * Both come from the agent (SOURCE_AGENT, with a uuid, no container status), before any
 * TASK_STARTING. A task group's task (a nested container of the default executor) with an image
 * the agent cannot provide fails from the executor instead: TASK_FAILED with the launch error as
 * its message ("Unsupported container image type: 2") and no reason (`default_executor.cpp`).
 */

/** Why an executor's container could not be launched. */
export interface ContainerLaunchFailure {
  readonly reason: 'REASON_CONTAINER_LAUNCH_FAILED' | 'REASON_EXECUTOR_TERMINATED';
  readonly message: string;
}

/** `Image.Type` as the number `stringify` prints for the enum. */
const IMAGE_TYPE_NUMBER: Record<string, number> = { APPC: 1, DOCKER: 2 };
/** The image provider an image type needs. */
const IMAGE_PROVIDER: Record<string, string> = { APPC: 'appc', DOCKER: 'docker' };

const UNKNOWN_CONTAINER: ContainerLaunchFailure = {
  reason: 'REASON_EXECUTOR_TERMINATED',
  message: 'Abnormal executor termination: unknown container',
};

/** The provisioner's error for an image the agent has no provider for; undefined when it has one. */
function imageError(config: AgentContainerizer, container: JsonObject | undefined): string | undefined {
  const image = objectField(objectField(container, 'mesos'), 'image');
  if (image === undefined) return undefined;
  const type = typeof image.type === 'string' ? image.type : '';
  const provider = IMAGE_PROVIDER[type];
  if (provider !== undefined && config.imageProviders.includes(provider)) return undefined;
  return `Unsupported container image type: ${IMAGE_TYPE_NUMBER[type] ?? 0}`;
}

/**
 * How the agent fails the launch of an executor whose container is `container` (a command task's
 * `TaskInfo.container`, or an `ExecutorInfo.container`); undefined when it can launch it.
 */
export function executorLaunchFailure(
  config: AgentContainerizer,
  container: JsonObject | undefined,
): ContainerLaunchFailure | undefined {
  const type = container?.type;
  if (type === 'DOCKER') return config.containerizers.includes('docker') ? undefined : UNKNOWN_CONTAINER;
  if (!config.containerizers.includes('mesos')) return UNKNOWN_CONTAINER;
  const error = imageError(config, container);
  return error === undefined
    ? undefined
    : { reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: `Failed to launch container: ${error}` };
}

/** The launch error of a task group's task whose own container the agent cannot provide; undefined if it can. */
export function nestedLaunchError(
  config: AgentContainerizer,
  container: JsonObject | undefined,
): string | undefined {
  return imageError(config, container);
}
