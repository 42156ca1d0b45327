import type { RunRecord } from '../model/records.js';
import type { RunChange, RunRepository } from '../store/store.js';
import { applyEvent, type Step } from './changes.js';
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

/** Children of an array read per page when its parent is stopped. */
const CHILDREN_PAGE = 1_000;

/*
 * Stops, on either side of leadership. A stop is first a stored request (`stopRequestedAt`): a
 * queued run is STOPPED in that same write, a running one keeps its attempt until the kill ends
 * it. Only the leader sends kills, so a stop asked of a follower is recorded and left to the leader,
 * and a new leader sweeps for requested stops whose attempt is still out there — a stop survives
 * any restart or failover between its request and its kill. An array parent's stop requests the
 * stop of its unfinished children in the same write, so a crash right after it cannot leave them
 * running: the next leader's sweep kills them like any other requested stop.
 */

/** The stop requests of an array parent's unfinished children (none for a run that is no array parent). */
async function childStops(c: StopContext, parent: RunRecord, ctx: DecisionContext): Promise<Step[]> {
  if (parent.batch?.kind !== 'array') return [];
  const reason = `array ${parent.runId} was stopped`;
  const steps: Step[] = [];
  for (let offset = 0; ; offset += CHILDREN_PAGE) {
    const page = await c.store.listRuns({
      equals: { parent_id: parent.runId },
      statuses: ['QUEUED', 'PENDING', 'RUNNING', 'NEEDS_RETRY'],
      env: [],
      sortBy: 'run_id',
      order: 'asc',
      limit: CHILDREN_PAGE,
      offset,
    });
    for (const child of page.items) {
      const step = applyEvent(child, { type: 'stop-requested', at: ctx.now, reason }, ctx);
      if (step) steps.push(step);
    }
    if (page.items.length < CHILDREN_PAGE) return steps;
  }
}

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
  // The children's steps keep their kill effects: the writer sends them once all is stored.
  const children = await childStops(c, run, ctx);
  const stored = await c.writer.store([{ change: step.change, effects: [] }, ...children]);
  const now = stored.find((r) => r.runId === runId) ?? step.change.run;
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
    const children = await childStops(c, run, ctx);
    const written = await c.store.applyChanges([change, ...children.map((s) => s.change)]);
    const stored = written.find((r) => r.runId === runId);
    if (stored) {
      c.feed.publish(written);
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
