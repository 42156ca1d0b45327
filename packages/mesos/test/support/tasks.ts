/** Building small command tasks from an offer, for end-to-end tests. */
import type { Offer, Resource, TaskInfo } from '@galley/mesos';

/** Takes `amount` of scalar `name` from the offer, copying the offered entry's metadata. */
function scalar(offer: Offer, name: string, amount: number): Resource {
  const entry = offer.resources?.find(
    (r) => r.name === name && r.type === 'SCALAR' && (r.scalar?.value ?? 0) >= amount,
  );
  if (!entry) throw new Error(`offer ${offer.id.value} has no ${amount} ${name}`);
  return { ...entry, scalar: { value: amount } };
}

/** A command task of 0.1 cpu and 32 MB on the offer's agent. */
export function commandTask(offer: Offer, taskId: string, command: string): TaskInfo {
  return {
    name: taskId,
    task_id: { value: taskId },
    agent_id: offer.agent_id,
    resources: [scalar(offer, 'cpus', 0.1), scalar(offer, 'mem', 32)],
    command: { value: command },
  };
}
