import { CONFIGURATION_FAILURE, type AttemptOutcome } from '@galley/core';
import type { TaskStatus } from '@galley/mesos';
import type { Containerizer } from '../../config/mesos-settings.js';
import type { ImageKind } from './images.js';

/**
 * A task whose container the agent could not launch failed for the cluster's configuration, not
 * for its host: another attempt on an agent set up the same way fails the same way. Such an
 * attempt ends as a configuration failure (never retried) whose message says which agent flag or
 * Galley flag fixes it. Two cases also teach the backend that the agent runs no images
 * (`images.ts`), as a real Mesos 1.12 agent reports them:
 *
 * - a MESOS container with a Docker image on an agent without `--image_providers=docker`:
 *   TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED, "Failed to launch container: Unsupported
 *   container image type: 2";
 * - a DOCKER container on an agent without the docker containerizer: TASK_FAILED,
 *   REASON_EXECUTOR_TERMINATED, "Abnormal executor termination: unknown container", before the
 *   task ever started (the agent only logs that no containerizer supports it).
 *
 * Any other REASON_CONTAINER_LAUNCH_FAILED (an image that cannot be pulled, a fetch or isolator
 * failure) is a configuration failure too, but says nothing about the agent's containerizers.
 */

/** What the backend knows of the task when its update arrives. */
export interface LaunchedContainer {
  /** How its image was sent; null = a plain command task (or unknown, after a restart). */
  container: ImageKind | null;
  /** False until the task was reported running (or staging/starting only). */
  started: boolean;
  agentId: string | null;
  hostname: string | null;
}

/** A container launch failure: the attempt's outcome, and whether the agent runs no images. */
export interface ContainerFailure {
  outcome: AttemptOutcome;
  /** The agent cannot run images of this kind (learned: it gets no more image runs). */
  agentRunsNoImages: boolean;
}

const UNSUPPORTED_IMAGE = /Unsupported container image type/;
const UNKNOWN_CONTAINER = /unknown container/;

/** What to change so that an image of `kind` runs, in the words of the agent's and Galley's flags. */
function fixFor(kind: ImageKind, mode: Containerizer): string {
  const agent =
    kind === 'mesos'
      ? 'the agent has no Docker image provider: start it with --image_providers=docker --isolation=filesystem/linux,docker/runtime --launcher=linux'
      : 'the agent has no Docker containerizer: start it with --containerizers=mesos,docker (Docker installed)';
  const galley =
    mode === 'auto'
      ? `, or correct its galley-images attribute (it declares it runs ${kind} images)`
      : `, or run Galley with --mesos-containerizer auto (images only on agents that declare galley-images:mesos or galley-images:docker) or none`;
  return `${agent}${galley}; images are no longer sent to this agent`;
}

/** The configuration failure a status reports, or null when it is not one. */
export function containerFailureOf(
  status: TaskStatus,
  task: LaunchedContainer,
  mode: Containerizer,
): ContainerFailure | null {
  if (status.state !== 'TASK_FAILED') return null;
  const reason = status.reason ?? '';
  const said = status.message ?? '';
  const kind = task.container;
  const where = `on agent ${task.hostname || task.agentId || status.agent_id?.value || '?'}`;
  let agentRunsNoImages = false;
  let fix: string;
  if (reason === 'REASON_CONTAINER_LAUNCH_FAILED') {
    agentRunsNoImages = kind === 'mesos' && UNSUPPORTED_IMAGE.test(said);
    fix = agentRunsNoImages
      ? fixFor('mesos', mode)
      : "check the image and the agent's containerizer flags (--containerizers, --image_providers, --isolation)";
  } else if (
    reason === 'REASON_EXECUTOR_TERMINATED' &&
    kind === 'docker' &&
    !task.started &&
    UNKNOWN_CONTAINER.test(said)
  ) {
    agentRunsNoImages = true;
    fix = fixFor('docker', mode);
  } else {
    return null;
  }
  const message = `container launch failed ${where} (${said || reason}): ${fix}`;
  return { outcome: { kind: 'host-failure', reason: CONFIGURATION_FAILURE, message }, agentRunsNoImages };
}
