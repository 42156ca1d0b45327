import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttemptTable, type TrackedTask } from '../../src/backends/mesos/attempts.js';
import { applyUpdate, expireUnreachable } from '../../src/backends/mesos/task-updates.js';
import type { TaskStatus } from '@galley/mesos';

// The offer sweeper's tick reads the tasks due from the table's indexes (launching tasks by when
// they were last touched, the unreachable ones) instead of walking every task in flight: it must
// find exactly what walking them all finds, whatever updates, ends and clock steps came between.

const LAUNCH_TIMEOUT = 1_000;
const UNREACHABLE_TIMEOUT = 3_000;

const task = (id: string, now: number): TrackedTask => ({
  attemptId: id,
  agentId: 'a1',
  hostname: 'h1',
  phase: 'launching',
  cpus: 1,
  memMb: 32,
  since: now,
  lastUpdateAt: now,
  unreachableSince: null,
  reconciledAt: null,
  killGraceMs: null,
  container: null,
  executorId: null,
});

/** The walk the sweeper made before the indexes (the reference). */
function naiveStale(tasks: Iterable<TrackedTask>, now: number): string[] {
  const out: string[] = [];
  for (const t of tasks) {
    if (t.phase !== 'launching' || now - t.lastUpdateAt < LAUNCH_TIMEOUT) continue;
    if (t.reconciledAt !== null && now - t.reconciledAt < LAUNCH_TIMEOUT) continue;
    out.push(t.attemptId);
  }
  return out.sort();
}

const stepArb = fc.oneof(
  fc.record({ launch: fc.integer({ min: 0, max: 9 }) }),
  fc.record({
    update: fc.integer({ min: 0, max: 9 }),
    state: fc.constantFrom('TASK_STARTING', 'TASK_RUNNING', 'TASK_UNREACHABLE', 'TASK_FINISHED'),
  }),
  fc.record({ wait: fc.integer({ min: 0, max: 1_200 }) }),
  fc.record({ tick: fc.constant(true) }),
);

const update = (table: AttemptTable, id: string, state: string, now: number) =>
  applyUpdate({ task_id: { value: id }, state, agent_id: { value: 'a1' } } as TaskStatus, {
    table,
    now,
    agentUrl: () => null,
    frameworkId: 'fw',
    containerizer: 'none',
  });
const stale = (table: AttemptTable, now: number) =>
  table.staleLaunches(now, LAUNCH_TIMEOUT).map((t) => t.attemptId);

describe('mesos attempt table: what a sweep is due, indexed', () => {
  it('reconciles a launch a timeout after its last update, then again a timeout after each reconcile', () => {
    const table = new AttemptTable();
    table.add(task('t1', 0));
    update(table, 't1', 'TASK_STARTING', 600);
    expect(stale(table, 1_100)).toEqual([]);
    expect(stale(table, 1_600)).toEqual(['t1']);
    expect(stale(table, 2_500)).toEqual([]);
    expect(stale(table, 2_600)).toEqual(['t1']);
    update(table, 't1', 'TASK_RUNNING', 2_700);
    expect(stale(table, 10_000)).toEqual([]);
  });

  it('gives up a task unreachable for the timeout, not one that came back meanwhile', () => {
    const table = new AttemptTable();
    table.add(task('back', 0));
    table.add(task('gone', 0));
    update(table, 'back', 'TASK_UNREACHABLE', 100);
    update(table, 'gone', 'TASK_UNREACHABLE', 100);
    update(table, 'back', 'TASK_RUNNING', 200);
    expect(expireUnreachable(table, 3_099, UNREACHABLE_TIMEOUT).events).toEqual([]);
    expect(expireUnreachable(table, 3_100, UNREACHABLE_TIMEOUT).events.map((e) => e.attemptId)).toEqual([
      'gone',
    ]);
    expect(table.get('back')?.phase).toBe('running');
    expect(expireUnreachable(table, 99_000, UNREACHABLE_TIMEOUT).events).toEqual([]);
  });

  it('finds the stale launches and the unreachable tasks a walk of every task finds', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 80 }), (steps) => {
        const table = new AttemptTable();
        let now = 10_000;
        let launches = 0;
        for (const step of steps) {
          if ('launch' in step) table.add(task(`t${step.launch}-${launches++}`, now));
          else if ('update' in step) {
            const ids = [...table.values()].map((t) => t.attemptId);
            if (ids.length === 0) continue;
            const id = ids[step.update % ids.length]!;
            const status = {
              task_id: { value: id },
              state: step.state,
              agent_id: { value: 'a1' },
            } as TaskStatus;
            applyUpdate(status, {
              table,
              now,
              agentUrl: () => null,
              frameworkId: 'fw',
              containerizer: 'none',
            });
          } else if ('wait' in step) now += step.wait;
          else {
            const expected = naiveStale(table.values(), now);
            const expectedUnreachable = [...table.values()]
              .filter((t) => t.unreachableSince !== null && now - t.unreachableSince >= UNREACHABLE_TIMEOUT)
              .map((t) => t.attemptId)
              .sort();
            expect(stale(table, now).sort()).toEqual(expected);
            // Reconciled now: none of them is due again at once.
            expect(table.staleLaunches(now, LAUNCH_TIMEOUT)).toEqual([]);
            const { events } = expireUnreachable(table, now, UNREACHABLE_TIMEOUT);
            expect(events.map((e) => e.attemptId).sort()).toEqual(expectedUnreachable);
            for (const id of expectedUnreachable) expect(table.get(id)).toBeUndefined();
          }
        }
      }),
    );
  });
});
