import type { RunRecord } from '../model/records.js';
import type { RunChange, RunRepository } from '../store/store.js';
import { applyEvent } from './changes.js';
import type { RunFeed } from './feed.js';
import type { DecisionContext, RunWriter } from './run-writer.js';

/** The truthful answer of a stop request. */
export type StopAnswer =
  | { result: 'not-found' }
  /** The run had already finished: nothing was done. */
  | { result: 'already-stopped'; run: RunRecord }
  /** The run was queued or waiting for a retry: it is STOPPED now and never ran (again). */
  | { result: 'stopped'; run: RunRecord }
  /** The run has an attempt on a backend: a kill was sent (`signalled` false: the attempt was already gone). */
  | { result: 'kill-sent'; run: RunRecord; signalled: boolean };

/** What a stop works with. */
export interface StopContext {
  store: RunRepository;
  feed: RunFeed;
  writer: RunWriter;
  ctx: () => DecisionContext;
  /** Clusters this replica serves. */
  clusters: () => string[];
}

/*
 * Stops, on either side of leadership. A stop is first a stored request (`stopRequestedAt`): a
 * queued run is STOPPED in that same write, a running one keeps its attempt until the kill ends
 * it. Only the leader sends kills, so a stop asked of a follower is recorded and left to the leader,
 * and a new leader sweeps for requested stops whose attempt is still out there — a stop survives
 * any restart or failover between its request and its kill.
 */

/** The leader's stop: records the request and kills the attempt at once. */
export async function stopAsLeader(c: StopContext, runId: string, reason?: string): Promise<StopAnswer> {
  const run = await c.store.getRun(runId);
  if (!run) return { result: 'not-found' };
  if (run.state.status === 'STOPPED') return { result: 'already-stopped', run };
  const ctx = c.ctx();
  const step = applyEvent(run, { type: 'stop-requested', at: ctx.now, ...(reason ? { reason } : {}) }, ctx);
  if (!step) {
    // A stop was already requested: send the kill again (kills are idempotent).
    const signalled = run.state.attemptId ? await c.writer.kill(run, run.state.attemptId) : false;
    return { result: 'kill-sent', run, signalled };
  }
  const kills = step.effects.filter((e) => e.type === 'kill');
  const [stored] = await c.writer.store([{ change: step.change, effects: [] }]);
  const now = stored ?? step.change.run;
  if (kills.length === 0) return { result: 'stopped', run: now };
  let signalled = false;
  for (const k of kills) signalled = (await c.writer.kill(now, k.attemptId)) || signalled;
  return { result: 'kill-sent', run: now, signalled };
}

/**
 * A stop asked of a follower: it records the stop request (a queued run is STOPPED at once),
 * unfenced like an execute, and its notice wakes the leader, which sends the kill (see
 * RunController.changedElsewhere; a new leader does it at takeover). A run the leader changed
 * meanwhile is read again.
 */
export async function stopAsFollower(c: StopContext, runId: string, reason?: string): Promise<StopAnswer> {
  for (let tries = 0; ; tries++) {
    const run = (await c.store.getRuns([runId]))[0];
    if (!run) return { result: 'not-found' };
    if (run.state.status === 'STOPPED') return { result: 'already-stopped', run };
    const ctx = c.ctx();
    const step = applyEvent(run, { type: 'stop-requested', at: ctx.now, ...(reason ? { reason } : {}) }, ctx);
    // Asked before: the leader carries it out (and a new leader at its takeover).
    if (!step) return { result: 'kill-sent', run, signalled: true };
    const change: RunChange = step.change;
    const [stored] = await c.store.applyChanges([change]);
    if (stored) {
      c.feed.publish([stored]);
      const kills = step.effects.some((e) => e.type === 'kill');
      return kills
        ? { result: 'kill-sent', run: stored, signalled: true }
        : { result: 'stopped', run: stored };
    }
    if (tries >= 10) throw new Error(`run ${runId} kept changing; its stop was not recorded`);
  }
}

/** Level-triggered kills: runs whose stop was requested but whose attempt is still out there. */
export async function killPendingStops(c: StopContext): Promise<void> {
  for (const { run, attempt } of await c.store.inFlight(c.clusters())) {
    if (run.state.stopRequestedAt !== null && run.state.attemptId === attempt.attemptId) {
      await c.writer.kill(run, attempt.attemptId);
    }
  }
}
