import { transition, type RetryPolicy, type RunEffect, type RunEvent } from '@galley/core';
import type { NewRunEvent, RunRecord } from '../model/records.js';
import type { RunChange } from '../store/store.js';
import { runPolicy } from './retry-strategy.js';

/** What a run controller step decided for one run: the change to store and the effects to carry out. */
export interface Step {
  change: RunChange;
  effects: RunEffect[];
}

/** The timeline entry of an event applied to a run. */
function timelineEntry(run: RunRecord, event: RunEvent): NewRunEvent {
  const s = run.state;
  let reason: string | null = null;
  if (event.type === 'ended' || event.type === 'stop-requested') reason = s.exitReason;
  else if (event.type === 'unplaceable') reason = s.queuedReason;
  else if (event.type === 'retry-due') reason = 'retry delay passed';
  const attemptId = 'attemptId' in event ? event.attemptId : s.attemptId;
  return { runId: run.runId, at: event.at, type: event.type, status: s.status, attemptId, reason };
}

/**
 * Applies `event` to `run` through core `transition`. Answers null when nothing changed (a
 * repeated or stale event); otherwise the new run (same version: the store bumps it) as a change.
 * `extra` carries the fields the event brings besides the state (attempt row, instance).
 */
export function applyEvent(
  run: RunRecord,
  event: RunEvent,
  ctx: { policy: RetryPolicy; random: () => number; now: number },
  extra: Pick<RunChange, 'attempt'> & { host?: RunRecord['host'] } = {},
): Step | null {
  // A run's own retry strategy (its definition's and execute's, snapshotted) over the server's.
  const policy = runPolicy(run, ctx.policy);
  const result = transition(run.state, event, { policy, random: ctx.random });
  if (!result.changed) return null;
  const next: RunRecord = {
    ...run,
    state: result.state,
    host: extra.host === undefined ? run.host : extra.host,
    updatedAt: ctx.now,
  };
  const change: RunChange = { run: next, expectedVersion: run.version, events: [timelineEntry(next, event)] };
  if (extra.attempt) change.attempt = extra.attempt;
  return { change, effects: result.effects };
}

/**
 * Folds several steps of the same run into one change (events of one batch for one run), so a
 * batch writes each run once.
 */
export function mergeSteps(first: Step, second: Step): Step {
  return {
    change: {
      run: second.change.run,
      expectedVersion: first.change.expectedVersion,
      // The later attempt change wins; an insert followed by a patch of the same attempt stays an insert.
      ...(second.change.attempt || first.change.attempt
        ? { attempt: mergeAttempt(first.change.attempt, second.change.attempt) }
        : {}),
      events: [...first.change.events, ...second.change.events],
    },
    effects: [...first.effects, ...second.effects],
  };
}

function mergeAttempt(a: RunChange['attempt'], b: RunChange['attempt']): NonNullable<RunChange['attempt']> {
  if (!a) return b!;
  if (!b) return a;
  if ('insert' in a && 'patch' in b && a.insert.attemptId === b.patch.attemptId) {
    const p = b.patch;
    return {
      insert: {
        ...a.insert,
        state: p.state,
        handle: p.handle ?? a.insert.handle,
        outcome: p.outcome ?? a.insert.outcome,
        launchedAt: p.launchedAt ?? a.insert.launchedAt,
        endedAt: p.endedAt ?? a.insert.endedAt,
      },
    };
  }
  if ('patch' in a && 'patch' in b && a.patch.attemptId === b.patch.attemptId) {
    return { patch: { ...a.patch, ...stripUndefined(b.patch) } };
  }
  return b;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
