import { Type } from '@sinclair/typebox';

/**
 * One Mesos agent as Galley runs work there, in `GET /clusters` (`details[].mesos.agent_support`):
 * which agents run images and which failed to, and which run Galley's runs under the shared
 * galley-executor or fell back to Mesos' command executor — each failure with the agent's message.
 */
export const MesosAgentSupportJson = Type.Object({
  agent_id: Type.String(),
  hostname: Type.String(),
  images: Type.Union([Type.Literal('mesos'), Type.Literal('docker'), Type.Literal('none')], {
    description: 'How images are sent there: MESOS or DOCKER containerizer, or `none` (plain command tasks).',
  }),
  image_failure: Type.Union([Type.String(), Type.Null()], {
    description: 'Why it gets no more images: the container launch failure it answered (learned).',
  }),
  executor: Type.Union([Type.Literal('galley'), Type.Literal('command')], {
    description: "Runs without an image: under the shared galley-executor, or Mesos' command executor.",
  }),
  executor_failure: Type.Union([Type.String(), Type.Null()], {
    description:
      'Why it falls back to the command executor: what the agent said when galley-executor could not start.',
  }),
});
