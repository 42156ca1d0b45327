/**
 * Attempt ids are `<run_id>.<seq>` (seq from 1): unique per launch, readable, and also the
 * backend's task id. A run id never contains a dot-digit suffix of its own, so the run of an
 * attempt is found without a lookup.
 */
export function attemptIdOf(runId: string, seq: number): string {
  return `${runId}.${seq}`;
}

/** The run id and seq of an attempt id; null when it is not one of ours. */
export function parseAttemptId(attemptId: string): { runId: string; seq: number } | null {
  const m = /^(.+)\.(\d+)$/.exec(attemptId);
  return m ? { runId: m[1]!, seq: Number(m[2]) } : null;
}
