/**
 * Pipeline launch ids: `<pipeline>$<instance number>.<seq>.<uid>`. The pipeline controller makes
 * them; a backend only knows that a task id is `<launch id>:<process>` (see the group runner).
 */

/** A launch id from its parts. `uid` is the pipeline's creation uid. */
export function launchIdOf(pipelineId: string, instanceNumber: number, seq: number, uid: string): string {
  return `${pipelineId}$${instanceNumber}.${seq}.${uid}`;
}

/** The pipeline and instance of a launch id; null for anything else. */
export function parseLaunchId(
  launchId: string,
): { pipelineId: string; instanceId: string; seq: number } | null {
  const m = /^([a-zA-Z0-9_-]+)\$(\d+)\.(\d+)\.([a-z0-9]+)$/.exec(launchId);
  if (!m) return null;
  return { pipelineId: m[1]!, instanceId: `${m[1]}.${m[2]}`, seq: Number(m[3]) };
}
