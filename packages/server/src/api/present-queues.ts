import type { RunRecord } from '../model/records.js';
import type { Run } from './schemas/runs.js';

/** A run's queue, array and dependency fields as the API answers them (see schemas/queues.ts). */
export function presentRunBatch(
  r: RunRecord,
): Pick<Run, 'queue' | 'parent_id' | 'array_index' | 'array' | 'depends_on'> {
  const b = r.batch;
  return {
    queue: b?.queue ?? 'default',
    parent_id: b?.parentId ?? null,
    array_index: b?.arrayIndex ?? null,
    array:
      b?.kind === 'array'
        ? {
            size: b.arraySize ?? 0,
            parallelism: b.arrayParallelism ?? null,
            ...(b.arrayCounts ? { counts: b.arrayCounts } : {}),
          }
        : null,
    depends_on: (b?.dependsOn ?? []).map((d) => ({ run_id: d.runId, condition: d.condition })),
  };
}
