import type { AgentContainerizer, FakeContainerRuntime } from '../options.js';
import type { JsonObject } from '../model/world.js';
import { objectField } from '../wire/call-parsing.js';

export type { FakeContainerRuntime };

/**
 * When a fake agent runs a task in its image: the agent may run images (an image provider
 * `docker`, or the `docker` containerizer), the fake was given a local container runtime
 * (`containerRuntime`, Podman's CLI), and the task's ContainerInfo carries a Docker image (a MESOS
 * container with `mesos.image.type` DOCKER, or a DOCKER container). Without a runtime such a task
 * runs its command on the host, as before.
 */

/**
 * What Mesos adds to a command task's container for its command executor (`DEFAULT_EXECUTOR_CPUS`,
 * `DEFAULT_EXECUTOR_MEM`: "a small overcommit", slave.cpp): the container's limits are the task's plus these.
 */
export const COMMAND_EXECUTOR_CPUS = 0.1;
export const COMMAND_EXECUTOR_MEM_MB = 32;

/** How a task's image is run: which containerizer Mesos would use, and the image's name. */
export interface TaskImage {
  containerizer: 'mesos' | 'docker';
  name: string;
}

/** The Docker image a ContainerInfo carries, if any. */
export function taskImageOf(container: JsonObject | undefined): TaskImage | undefined {
  if (container === undefined) return undefined;
  if (container.type === 'DOCKER') {
    const name = objectField(container, 'docker')?.image;
    return typeof name === 'string' && name !== '' ? { containerizer: 'docker', name } : undefined;
  }
  const image = objectField(objectField(container, 'mesos'), 'image');
  if (image?.type !== 'DOCKER') return undefined;
  const name = objectField(image, 'docker')?.name;
  return typeof name === 'string' && name !== '' ? { containerizer: 'mesos', name } : undefined;
}

/** The image to run a task in through the runtime; undefined = run its command on the host. */
export function imageToRun(
  config: AgentContainerizer,
  runtime: FakeContainerRuntime | undefined,
  container: JsonObject | undefined,
): TaskImage | undefined {
  if (runtime === undefined) return undefined;
  const image = taskImageOf(container);
  if (image === undefined) return undefined;
  const can =
    image.containerizer === 'docker'
      ? config.containerizers.includes('docker')
      : config.imageProviders.includes('docker');
  return can ? image : undefined;
}
