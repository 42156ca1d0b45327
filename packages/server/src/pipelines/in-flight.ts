import type { GroupReconcileItem } from '../backends/group-runner.js';
import { isLaunchOver } from '../model/pipeline-records.js';
import type { PipelineRepository } from '../store/store.js';
import { unservableReason, unservableVersionReason } from './servable.js';
import { groupLaunchOf } from './sync.js';

/** A launch in flight, and whether its spec cannot be served. */
export interface InFlightItem extends GroupReconcileItem {
  unservable: boolean;
}

/**
 * The launches the store has in flight (some process not known to have ended), by cluster: what a
 * backend must find again after a restart. `cluster` narrows it to one cluster. A launch of a spec
 * that cannot be served (see servable.ts) is handed over to be stopped (`killRequested`), and
 * marked `unservable` so a backend that cannot even find it again fails no other launch.
 */
export async function launchesInFlight(
  store: PipelineRepository,
  cluster?: string,
): Promise<Map<string, InFlightItem[]>> {
  const out = new Map<string, InFlightItem[]>();
  const pipelines = (await store.listPipelines()).filter(
    (p) => cluster === undefined || p.cluster === cluster,
  );
  if (pipelines.length === 0) return out;
  const all = await store.pipelineInstances();
  for (const p of pipelines) {
    const records = all.filter((r) => r.pipelineId === p.pipelineId && r.launch && !isLaunchOver(r.launch));
    if (records.length === 0) continue;
    const versions = await store.pipelineVersions(p.pipelineId);
    const pipelineFailed = unservableReason(p.spec) !== null;
    for (const record of records) {
      const spec = versions.get(record.state.version);
      const launch = record.launch!;
      if (!spec) continue;
      const unservable = pipelineFailed || unservableVersionReason(spec) !== null;
      const processes: GroupReconcileItem['processes'] = {};
      for (const [name, pr] of Object.entries(launch.processes))
        processes[name] = {
          handle: pr.agentId && !pr.handle ? { agentId: pr.agentId } : pr.handle,
          ports: pr.ports,
          ended: pr.exit !== null,
        };
      const item: InFlightItem = {
        launch: groupLaunchOf(record, spec),
        processes,
        placed: launch.phase === 'placed',
        killRequested: unservable || launch.killRequestedAt !== null || record.state.phase === 'stopping',
        unservable,
      };
      const list = out.get(p.cluster);
      if (list) list.push(item);
      else out.set(p.cluster, [item]);
    }
  }
  return out;
}
