import { describe, expect, it } from 'vitest';
import { AcceptPlan, OfferMismatchError, ResourcePool, type Allocation, type FitResult } from '@galley/mesos';
import { offer, ranges, scalar, seededRandom, set } from './resource-fixtures.js';

function ok(result: FitResult): Allocation {
  if (!result.ok) throw new Error(`expected a fit, got: ${result.reason}`);
  return result;
}

const plain = [
  scalar('cpus', 4),
  scalar('mem', 4096),
  scalar('disk', 10_000),
  ranges('ports', [[31000, 31009]]),
];

describe('does a task fit (spec §6.3)', () => {
  it('takes cpus, mem and disk and returns them with the offered metadata', () => {
    const pool = new ResourcePool([offer('A', plain, { role: 'batch' })]);
    const a = ok(pool.allocate({ cpus: 0.5, mem: 256, disk: 100 }));
    const meta = { allocation_info: { role: 'batch' } };
    expect(a.resources).toEqual([
      scalar('cpus', 0.5, meta),
      scalar('mem', 256, meta),
      scalar('disk', 100, meta),
    ]);
    expect(pool.available('cpus')).toBe(3.5);
    expect(pool.available('mem')).toBe(3840);
  });

  it('uses reserved resources before unreserved ones, emitting one entry per source', () => {
    const reserved = { role: 'eng', reservation: { principal: 'ops' } };
    const pool = new ResourcePool([offer('A', [scalar('cpus', 2), scalar('cpus', 1, reserved)])]);
    const a = ok(pool.allocate({ cpus: 1.5 }));
    expect(a.resources).toEqual([scalar('cpus', 1, reserved), scalar('cpus', 0.5)]);
  });

  it('pools several offers of one agent', () => {
    const pool = new ResourcePool([offer('A', [scalar('cpus', 1)]), offer('A', [scalar('cpus', 1)])]);
    expect(ok(pool.allocate({ cpus: 2 })).resources).toEqual([scalar('cpus', 2)]);
  });

  it('reports what is missing and takes nothing', () => {
    const pool = new ResourcePool([offer('A', plain)]);
    const r = pool.allocate({ cpus: 8, mem: 100, fixedPorts: [80], ports: 2 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe('needs 8 cpus, 4 left; ports 80 not offered or already taken');
    expect(r.shortfalls.map((s) => s.name)).toEqual(['cpus', 'ports']);
    expect(pool.available('mem')).toBe(4096);
    expect(pool.remaining()).toEqual(plain);
  });

  it.each([
    {
      name: 'revocable cpus for a normal task',
      resources: [scalar('cpus', 4, { revocable: {} })],
      needs: { cpus: 1 },
      fits: false,
    },
    {
      name: 'revocable cpus for a revocable task',
      resources: [scalar('cpus', 4, { revocable: {} })],
      needs: { cpus: 1, revocable: true },
      fits: true,
    },
    {
      name: 'a MOUNT disk for a disk need',
      resources: [scalar('disk', 100, { disk: { source: { type: 'MOUNT' } } })],
      needs: { disk: 1 },
      fits: false,
    },
    {
      name: 'a PATH disk for a disk need',
      resources: [scalar('disk', 100, { disk: { source: { type: 'PATH', path: { root: '/d' } } } })],
      needs: { disk: 1 },
      fits: true,
    },
    {
      name: 'a persistent volume for a disk need',
      resources: [
        scalar('disk', 100, {
          role: 'r',
          disk: { persistence: { id: 'v' }, volume: { container_path: 'd', mode: 'RW' } },
        }),
      ],
      needs: { disk: 1 },
      fits: false,
    },
    { name: 'gpus', resources: [scalar('gpus', 1)], needs: { gpus: 2 }, fits: false },
    { name: 'custom scalar', resources: [scalar('fpgas', 2)], needs: { scalars: { fpgas: 2 } }, fits: true },
    {
      name: 'set items present',
      resources: [set('gpu_ids', ['0', '1'])],
      needs: { sets: { gpu_ids: ['1'] } },
      fits: true,
    },
    {
      name: 'set item absent',
      resources: [set('gpu_ids', ['0'])],
      needs: { sets: { gpu_ids: ['1'] } },
      fits: false,
    },
    { name: 'nothing needed', resources: [], needs: {}, fits: true },
  ])('$name: fits=$fits', ({ resources, needs, fits }) => {
    expect(new ResourcePool([offer('A', resources)]).allocate(needs).ok).toBe(fits);
  });

  it('refuses offers of different agents or roles, and repeated offers', () => {
    expect(() => new ResourcePool([offer('A', plain), offer('B', plain)])).toThrow(OfferMismatchError);
    expect(
      () => new ResourcePool([offer('A', plain, { role: 'x' }), offer('A', plain, { role: 'y' })]),
    ).toThrow(expect.objectContaining({ code: 'OFFER_MISMATCH' }));
    const o = offer('A', plain);
    expect(() => new ResourcePool([o, o])).toThrow(/repeated/);
    expect(() => new ResourcePool([])).toThrow(OfferMismatchError);
  });
});

describe('port picking (spec §6.4)', () => {
  it('gives fixed ports first, then dynamic ones, never the same port twice', () => {
    const pool = new ResourcePool([offer('A', [ranges('ports', [[31000, 31004]])])], {
      random: seededRandom(3),
    });
    const a = ok(pool.allocate({ fixedPorts: [31002], ports: 2 }));
    expect(a.ports[0]).toBe(31002);
    const b = ok(pool.allocate({ ports: 2 }));
    const all = [...a.ports, ...b.ports];
    expect(new Set(all).size).toBe(5);
    expect(all.every((p) => p >= 31000 && p <= 31004)).toBe(true);
    expect(pool.allocate({ ports: 1 }).ok).toBe(false);
  });

  it('starts dynamic ports at a random point and wraps around', () => {
    const entries = [
      ranges('ports', [
        [100, 104],
        [200, 204],
      ]),
    ];
    const start = (r: number): number[] =>
      ok(new ResourcePool([offer('A', entries)], { random: () => r }).allocate({ ports: 3 })).ports;
    expect(start(0)).toEqual([100, 101, 102]);
    expect(start(0.5)).toEqual([200, 201, 202]);
    expect(start(0.95)).toEqual([100, 101, 204]);
  });

  it('emits one ports resource per source entry, coalesced', () => {
    const reserved = { role: 'eng' };
    const pool = new ResourcePool(
      [offer('A', [ranges('ports', [[10, 11]], reserved), ranges('ports', [[20, 29]])])],
      {
        random: () => 0,
      },
    );
    const a = ok(pool.allocate({ ports: 4 }));
    expect(a.resources).toEqual([ranges('ports', [[10, 11]], reserved), ranges('ports', [[20, 21]])]);
  });

  it('fits several needs together: fixed ports first, never one port twice, all or nothing', () => {
    const pool = new ResourcePool([offer('A', [scalar('cpus', 1), ranges('ports', [[10, 12]])])], {
      random: () => 0,
    });
    const both = pool.allocateAll([{ ports: 2 }, { fixedPorts: [10] }]);
    if (!both.ok) throw new Error(both.reason);
    expect(both.allocations.map((a) => a.ports)).toEqual([[11, 12], [10]]);
    const twice = new ResourcePool([offer('A', [ranges('ports', [[10, 12]])])]).allocateAll([
      { fixedPorts: [10] },
      { fixedPorts: [10] },
    ]);
    expect(twice.ok ? [] : twice.shortfalls[0]?.missing).toEqual([10]);
    const tooMuch = new ResourcePool([offer('A', [scalar('cpus', 1)])]);
    expect(tooMuch.allocateAll([{ cpus: 0.6 }, { cpus: 0.6 }]).ok).toBe(false);
    expect(tooMuch.available('cpus')).toBe(1);
  });

  it('refuses a fixed port that is not offered', () => {
    const pool = new ResourcePool([offer('A', [ranges('ports', [[31000, 31010]])])]);
    const r = pool.allocate({ fixedPorts: [80] });
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.shortfalls[0]?.missing).toEqual([80]);
  });
});

describe('several tasks from several offers in one ACCEPT', () => {
  it('builds LAUNCH with every offer id and the refuse filter', () => {
    const o1 = offer('A', [scalar('cpus', 1), scalar('mem', 128)]);
    const o2 = offer('A', [scalar('cpus', 1), scalar('mem', 128), ranges('ports', [[5000, 5001]])]);
    const plan = new AcceptPlan([o1, o2], { random: () => 0 });
    for (const name of ['a', 'b', 'c']) {
      const fit = plan.fit({ cpus: 0.5, mem: 64, ports: name === 'c' ? 0 : 1 });
      if (!fit.ok) throw new Error(fit.reason);
      plan.launch([
        {
          name,
          task_id: { value: name },
          agent_id: { value: 'ignored' },
          resources: fit.resources,
          command: { value: 'true' },
        },
      ]);
    }
    expect(plan.fit({ cpus: 1 }).ok).toBe(false);
    const accept = plan.toAccept(120);
    expect(accept.offer_ids).toEqual([o1.id, o2.id]);
    expect(accept.filters).toEqual({ refuse_seconds: 120 });
    expect(accept.operations).toHaveLength(1);
    const op = accept.operations[0];
    if (op?.type !== 'LAUNCH') throw new Error('expected LAUNCH');
    expect(op.launch.task_infos?.map((t) => [t.name, t.agent_id.value])).toEqual([
      ['a', 'A'],
      ['b', 'A'],
      ['c', 'A'],
    ]);
    expect(plan.size).toBe(3);
  });

  it('budgets a LAUNCH_GROUP executor once, and not when it already runs on the agent', () => {
    const exec = { executorId: 'pod-1', needs: { cpus: 0.01, mem: 32, disk: 32 } };
    const plan = new AcceptPlan([offer('A', [scalar('cpus', 1), scalar('mem', 1024), scalar('disk', 1024)])]);
    const first = plan.fit({ cpus: 0.5, mem: 64 }, exec);
    const second = plan.fit({ cpus: 0.2, mem: 64 }, exec);
    if (!first.ok || !second.ok) throw new Error('expected fits');
    expect(first.executorResources).toEqual([scalar('cpus', 0.01), scalar('mem', 32), scalar('disk', 32)]);
    expect(second.executorResources).toBeUndefined();
    expect(plan.pool.available('cpus')).toBe(0.29);

    const running = new AcceptPlan([
      offer('A', [scalar('cpus', 1), scalar('mem', 1024)], { executors: ['pod-1'] }),
    ]);
    const fit = running.fit({ cpus: 0.5 }, exec);
    expect(fit.ok && fit.executorResources).toBeUndefined();
  });

  it('does not launch a task whose executor does not fit', () => {
    const plan = new AcceptPlan([offer('A', [scalar('cpus', 1), scalar('mem', 64)])]);
    const r = plan.fit({ cpus: 0.5, mem: 64 }, { executorId: 'e', needs: { cpus: 0.01, mem: 32 } });
    expect(r.ok).toBe(false);
    expect(plan.pool.available('mem')).toBe(64);
    expect(plan.pool.hasExecutor('e')).toBe(false);
  });

  it('records LAUNCH_GROUP operations in order', () => {
    const plan = new AcceptPlan([offer('A', [scalar('cpus', 1)])]);
    const executor = {
      type: 'DEFAULT' as const,
      executor_id: { value: 'e1' },
      framework_id: { value: 'F1' },
    };
    plan.launchGroup(executor, [
      { name: 't', task_id: { value: 't' }, agent_id: { value: '?' }, command: { value: 'true' } },
    ]);
    const [op] = plan.toAccept(5).operations;
    if (op?.type !== 'LAUNCH_GROUP') throw new Error('expected LAUNCH_GROUP');
    expect(op.launch_group.executor).toBe(executor);
    expect(op.launch_group.task_group.tasks?.[0]?.agent_id).toEqual({ value: 'A' });
  });
});
