import { isDeepStrictEqual } from 'node:util';
import type { Backend, BackendEvent, LaunchSpec } from '../backends/backend.js';
import type { RunRepository } from '../store/store.js';
import { launchSpecOf } from './dispatch-plan.js';

/**
 * Recovery at start: every attempt the store has in flight is reconciled with its backend. Live
 * ones are adopted (`running`), ended ones get their outcome (`ended`), and attempts recorded but
 * never started (the backend confirms `absent`) are launched again under the SAME attempt id, so
 * no attempt ever runs twice and no accepted run is lost. Answers the launches to make.
 */
export async function recover(
  store: RunRepository,
  backends: readonly Backend[],
  apply: (events: BackendEvent[]) => Promise<void>,
  now: () => number,
): Promise<{ relaunch: Map<string, LaunchSpec[]>; reconciled: number }> {
  const relaunch = new Map<string, LaunchSpec[]>();
  let reconciled = 0;
  for (const backend of backends) {
    const inFlight = await store.inFlight([backend.cluster]);
    if (inFlight.length === 0) continue;
    reconciled += inFlight.length;
    const byAttempt = new Map(inFlight.map((f) => [f.attempt.attemptId, f]));
    const answers = await backend.reconcile(
      inFlight.map(({ run, attempt }) => ({ attempt, cpus: run.cpu / 1000, memMb: run.memory })),
    );
    const events: BackendEvent[] = [];
    const specs: LaunchSpec[] = [];
    for (const answer of answers) {
      const { run, attempt } = byAttempt.get(answer.attemptId)!;
      if (answer.state === 'running') {
        const { attemptId, at, handle, host } = answer;
        // Found again as stored (running, same handle): nothing to write. A restart that finds
        // 1,000 runs going on does not rewrite 1,000 attempts before the API answers.
        if (attempt.state === 'running' && isDeepStrictEqual(attempt.handle, handle)) continue;
        events.push({ type: 'running', attemptId, at, handle, host });
      } else if (answer.state === 'ended') {
        const { attemptId, at, outcome, usage } = answer;
        events.push({ type: 'ended', attemptId, at, outcome, ...(usage ? { usage } : {}) });
      } else if (attempt.state === 'launching' && run.state.attemptId === attempt.attemptId) {
        specs.push(launchSpecOf(run, attempt.attemptId, attempt.seq, attempt.nodeId ?? ''));
      } else {
        events.push({
          type: 'ended',
          attemptId: answer.attemptId,
          at: now(),
          outcome: {
            kind: 'host-failure',
            reason: 'lost',
            message: 'the backend does not know this attempt',
          },
        });
      }
    }
    await apply(events);
    if (specs.length) relaunch.set(backend.cluster, specs);
  }
  return { relaunch, reconciled };
}
