import { describe, expect, it } from 'vitest';
import { OfferBook, type TaskStatus } from '@galley/mesos';
import { InstanceTable, planRound, resolveSpecs, roleHasWaiting, type TaskSpec } from '@galley/mesos/extras';
import { offer, ranges, scalar, seededRandom } from '../offers/resource-fixtures.js';

const small: TaskSpec = { command: { value: 'sleep 100' }, resources: { cpus: 0.5, mem: 64, ports: 1 } };
const agent = (id: string, cpus = 2) =>
  offer(id, [scalar('cpus', cpus), scalar('mem', 1024), ranges('ports', [[31000, 31099]])]);

const random = seededRandom(7);

function round(table: InstanceTable, offers: ReturnType<typeof offer>[], now = 0) {
  const book = new OfferBook();
  book.add(offers);
  return planRound(book.takeGroups(), table, {
    now,
    random,
    frameworkId: 'F',
    refuseSeconds: 120,
    multiRole: false,
  });
}

const status = (taskId: string, state: TaskStatus['state'], extra: Partial<TaskStatus> = {}): TaskStatus => ({
  task_id: { value: taskId },
  state,
  agent_id: { value: 'A' },
  ...extra,
});

describe('offer rounds of the task manager', () => {
  it('packs several instances into one ACCEPT per agent and declines the rest', () => {
    const table = new InstanceTable(resolveSpecs({ web: { ...small, instances: 5 } }), seededRandom(1));
    const plan = round(table, [agent('A'), agent('B'), agent('C')]);
    expect(plan.accepts.map((a) => a.launches.map((l) => l.instance.serial))).toEqual([[1, 2, 3, 4], [5]]);
    expect(plan.declines).toHaveLength(1);
    const [first] = plan.accepts;
    expect(first?.payload.operations).toHaveLength(1);
    expect(first?.payload.filters).toEqual({ refuse_seconds: 120 });
    const ports = first?.launches.map((l) => l.ports[0]);
    expect(new Set(ports).size).toBe(4);
    expect(table.instances('web').every((i) => i.phase === 'launching')).toBe(true);
  });

  it('launches by priority, then name, then serial — and a spec that does not fit does not block others', () => {
    const table = new InstanceTable(
      resolveSpecs({
        b: { ...small, instances: 1, priority: 1 },
        a: { ...small, instances: 1, priority: 1 },
        huge: { ...small, instances: 1, priority: 0, resources: { cpus: 64, mem: 1 } },
        first: { ...small, instances: 2, priority: 0 },
      }),
      seededRandom(1),
    );
    const plan = round(table, [agent('A', 1.5)]);
    expect(plan.accepts[0]?.launches.map((l) => l.instance.spec + l.instance.serial)).toEqual([
      'first1',
      'first2',
      'a1',
    ]);
  });

  it('marks a launching task active, then restarts a failed one after its backoff', () => {
    const table = new InstanceTable(
      resolveSpecs({ web: { ...small, restartBackoff: { min: 1000, factor: 2, jitter: 0 } } }),
      seededRandom(1),
    );
    const plan = round(table, [agent('A')], 0);
    const id = plan.accepts[0]?.launches[0]?.taskId as string;
    const events = table
      .update(status(id, 'TASK_RUNNING'), 10)
      .map((e) => (e.type === 'EVENT' ? e.event.type : e.type));
    expect(events).toEqual(['task_updated', 'task_launched']);
    const failed = table.update(status(id, 'TASK_FAILED'), 20);
    expect(failed.map((e) => (e.type === 'EVENT' ? e.event.type : e.type))).toEqual([
      'task_updated',
      'task_restarting',
    ]);
    expect(table.update(status(id, 'TASK_FAILED'), 21)).toEqual([]);
    expect(round(table, [agent('A')], 500).accepts).toEqual([]);
    expect(table.nextWakeup(500)).toBe(1020);
    const again = round(table, [agent('A')], 1020);
    const id2 = again.accepts[0]?.launches[0]?.taskId as string;
    expect(id2).toMatch(/^web-1\./);
    expect(id2).not.toBe(id);
    table.update(status(id2, 'TASK_LOST'), 1030);
    expect(table.nextWakeup(1030)).toBe(1030 + 2000);
  });

  it('does not restart finished tasks, or states outside restartOn', () => {
    const table = new InstanceTable(resolveSpecs({ job: { ...small, instances: 2 } }), seededRandom(1));
    const [a, b] = round(table, [agent('A')]).accepts[0]?.launches ?? [];
    const done = table.update(status(a?.taskId as string, 'TASK_FINISHED'), 1);
    expect(done.at(-1)).toMatchObject({ type: 'EVENT', event: { type: 'task_removed', reason: 'finished' } });
    table.update(status(b?.taskId as string, 'TASK_KILLED'), 1);
    expect(table.instances('job').map((i) => i.phase)).toEqual(['finished', 'finished']);
    expect(roleHasWaiting(table, undefined, 10)).toBe(false);
  });

  it('scales down by killing the highest serials, and up by adding serials', () => {
    const table = new InstanceTable(
      resolveSpecs({ web: { ...small, instances: 3, allowScaling: true } }),
      seededRandom(1),
    );
    const launches = round(table, [agent('A')]).accepts[0]?.launches ?? [];
    const kills = table.scale('web', 1, 5);
    expect(kills).toEqual([
      { type: 'KILL', taskId: launches[2]?.taskId, agentId: 'A' },
      { type: 'KILL', taskId: launches[1]?.taskId, agentId: 'A' },
    ]);
    const removed = table.update(status(launches[2]?.taskId as string, 'TASK_KILLED'), 6);
    expect(removed.at(-1)).toMatchObject({ event: { type: 'task_removed', reason: 'scaled_down' } });
    expect(table.instances('web').map((i) => i.serial)).toEqual([1, 2]);
    table.scale('web', 4, 7);
    expect(table.instances('web').map((i) => [i.serial, i.phase])).toEqual([
      [1, 'launching'],
      [2, 'killing'],
      [3, 'waiting'],
      [4, 'waiting'],
    ]);
    const restarted = table.update(status(launches[1]?.taskId as string, 'TASK_KILLED'), 8);
    expect(restarted.at(-1)).toMatchObject({ event: { type: 'task_removed', reason: 'finished' } });
  });

  it('tells a fresh task manager which slot an unknown task belongs to (adoption)', () => {
    const table = new InstanceTable(resolveSpecs({ web: { ...small, instances: 2 } }), seededRandom(1));
    expect(table.adopt(status('web-2.0123456789ab', 'TASK_RUNNING'), 1)).toBe(true);
    expect(table.adopt(status('web-2.ffffffffffff', 'TASK_RUNNING'), 1)).toBe(false);
    expect(table.adopt(status('web-9.0123456789ab', 'TASK_RUNNING'), 1)).toBe(false);
    expect(table.adopt(status('other', 'TASK_RUNNING'), 1)).toBe(false);
    expect(table.liveTasks()).toEqual([{ taskId: 'web-2.0123456789ab', agentId: 'A' }]);
    expect(round(table, [agent('A')]).accepts[0]?.launches.map((l) => l.instance.serial)).toEqual([1]);
  });

  it('reports unhealthy once and restarts on request', () => {
    const table = new InstanceTable(resolveSpecs({ web: small }), seededRandom(1));
    const id = round(table, [agent('A')]).accepts[0]?.launches[0]?.taskId as string;
    table.update(status(id, 'TASK_RUNNING'), 1);
    const first = table.update(status(id, 'TASK_RUNNING', { healthy: false }), 2);
    expect(first.map((e) => (e.type === 'EVENT' ? e.event.type : e.type))).toEqual([
      'task_unhealthy',
      'task_updated',
    ]);
    expect(table.unhealthy(id, true)).toEqual([{ type: 'KILL', taskId: id, agentId: 'A' }]);
    const killed = table.update(status(id, 'TASK_KILLED'), 3);
    expect(killed.at(-1)).toMatchObject({ event: { type: 'task_restarting', state: 'TASK_KILLED' } });
  });

  it('only uses offers of a spec’s role in MULTI_ROLE frameworks', () => {
    const table = new InstanceTable(
      resolveSpecs({ web: { ...small, role: 'web' }, db: { ...small, role: 'db' } }),
      seededRandom(1),
    );
    const book = new OfferBook();
    book.add([
      offer('A', [scalar('cpus', 4), scalar('mem', 1024), ranges('ports', [[1, 9]])], { role: 'db' }),
    ]);
    const plan = planRound(book.takeGroups(), table, {
      now: 0,
      random: Math.random,
      frameworkId: 'F',
      refuseSeconds: 5,
      multiRole: true,
    });
    expect(plan.accepts[0]?.launches.map((l) => l.instance.spec)).toEqual(['db']);
    expect(roleHasWaiting(table, 'web', 0)).toBe(true);
    expect(roleHasWaiting(table, 'db', 0)).toBe(false);
  });
});
