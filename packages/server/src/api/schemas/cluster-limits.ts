import { Type } from '@sinclair/typebox';

/**
 * Which of a run's (and a pipeline process's) limits hold on a cluster, in `GET /clusters`
 * (`details[].limits`): a person reading a memory limit must know whether the kernel holds the job
 * to it (a container, or host mode's own cgroup per run attempt and per pipeline process) or only
 * accounts it, and why not.
 */
const LimitHoldsJson = Type.Object({
  enforced: Type.Boolean(),
  how: Type.String({ description: 'How it is enforced, or why it is not.' }),
});

export const ClusterLimitsJson = Type.Optional(
  Type.Object(
    { memory: LimitHoldsJson, cpu: LimitHoldsJson },
    {
      description:
        "Whether runs' and pipeline processes' memory and CPU limits hold here, and how or why not (local clusters).",
    },
  ),
);
