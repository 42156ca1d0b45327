import { describeServingProblems, type PipelineSpec, servingProblems } from '@galley/core';

/**
 * Why a stored spec cannot be served (core `servingProblems`: beyond the bounds the API enforces
 * now, stored before they existed), as `field: words; …`; null when it can be. Such a pipeline
 * reads `failed` with this reason, launches nothing, stops what it still runs, and can still be
 * deleted (or repaired by a PATCH of the fields named).
 */
export function unservableReason(spec: unknown): string | null {
  const problems = servingProblems(spec);
  return problems.length === 0 ? null : describeServingProblems(problems);
}

/** The pipeline's `status_reason` when its current spec cannot be served. */
export function failedPipelineReason(why: string): string {
  return `its stored spec cannot be served (stored before these bounds existed): ${why}`;
}

/**
 * Why the spec version an instance runs cannot be served, or null. Only what an instance runs counts:
 * `instances` and `update_strategy` are the pipeline's (its current spec), not the version's.
 */
export function unservableVersionReason(spec: PipelineSpec): string | null {
  const { instances: _instances, update_strategy: _strategy, ...rest } = spec;
  return unservableReason({ ...rest, instances: 0 });
}

/** The versions (of `versions`) that cannot be served, with why. */
export function unservableVersions(versions: ReadonlyMap<number, PipelineSpec>): Map<number, string> {
  const out = new Map<number, string>();
  for (const [version, spec] of versions) {
    const reason = unservableVersionReason(spec);
    if (reason !== null) out.set(version, reason);
  }
  return out;
}
