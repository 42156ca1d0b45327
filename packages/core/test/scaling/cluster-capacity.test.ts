import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideClusterCapacity,
  nodesFor,
  type CapacityAgent,
  type ClusterCapacityInput,
  type ClusterRoleSettings,
} from '@galley/core';

const settings = (over: Partial<ClusterRoleSettings> = {}): ClusterRoleSettings => ({
  min: 0,
  max: 10,
  node: { cpus: 2, memMb: 4096 },
  cooldownMs: 60_000,
  ...over,
});

const agent = (n: number, tasks = 0, draining = false): CapacityAgent => ({
  agentId: `S${n}`,
  hostname: `i-${n}`,
  tasks,
  draining,
});

const input = (over: Partial<ClusterCapacityInput> = {}): ClusterCapacityInput => ({
  role: 'batch',
  settings: settings(),
  now: 1_000_000,
  agents: [],
  running: { cpus: 0, memMb: 0 },
  queued: { cpus: 0, memMb: 0, count: 0 },
  desired: 0,
  instances: 0,
  lastScaleDownAt: null,
  ...over,
});

describe('cluster capacity per role', () => {
  it('scales up at once to the nodes the queued demand fills, with the reason', () => {
    const d = decideClusterCapacity(input({ queued: { cpus: 3, memMb: 1024, count: 3 } }));
    expect(d).toMatchObject({ action: 'up', desired: 2, needed: 2, drain: [] });
    expect(d.reason).toContain('queued 3');
    expect(d.reason).toContain('desired 0 → 2');
  });

  it('counts memory as well as cpus, and keeps within [min, max]', () => {
    expect(nodesFor({ cpus: 0.5, memMb: 9000 }, { cpus: 2, memMb: 4096 })).toBe(3);
    expect(nodesFor({ cpus: 0.1 + 0.2, memMb: 0 }, { cpus: 0.3, memMb: 1 })).toBe(1);
    const d = decideClusterCapacity(
      input({ settings: settings({ max: 2 }), queued: { cpus: 20, memMb: 0, count: 10 } }),
    );
    expect(d).toMatchObject({ action: 'up', desired: 2, needed: 10 });
    expect(decideClusterCapacity(input({ settings: settings({ min: 1 }) }))).toMatchObject({
      action: 'up',
      desired: 1,
    });
  });

  it('scales down one idle agent, never a busy one, and holds while every agent is busy', () => {
    const agents = [agent(1, 2), agent(2, 0), agent(3, 1)];
    const d = decideClusterCapacity(
      input({ agents, desired: 3, instances: 3, running: { cpus: 0.2, memMb: 64 } }),
    );
    expect(d).toMatchObject({ action: 'down', desired: 2, drain: ['S2'] });
    const busy = [agent(1, 1), agent(2, 1)];
    const h = decideClusterCapacity(
      input({ agents: busy, desired: 2, instances: 2, running: { cpus: 0.2, memMb: 64 } }),
    );
    expect(h).toMatchObject({ action: 'hold', desired: 2, drain: [] });
  });

  it('holds during the cooldown, while a drain is in flight, and while instances are booting', () => {
    const idle = [agent(1), agent(2)];
    const base = { agents: idle, desired: 2, instances: 2 };
    expect(decideClusterCapacity(input({ ...base, lastScaleDownAt: 1_000_000 - 30_000 })).reason).toContain(
      'cooldown',
    );
    expect(decideClusterCapacity(input({ ...base, lastScaleDownAt: 1_000_000 - 60_000 })).action).toBe(
      'down',
    );
    const draining = decideClusterCapacity(input({ ...base, agents: [agent(1), agent(2, 0, true)] }));
    expect(draining).toMatchObject({ action: 'hold' });
    expect(draining.reason).toContain('still being drained');
    expect(decideClusterCapacity(input({ ...base, instances: 3, desired: 3 })).reason).toContain(
      'not Mesos agents yet',
    );
  });

  it('replaces a draining node when demand returns', () => {
    const d = decideClusterCapacity(
      input({
        agents: [agent(1, 1), agent(2, 0, true)],
        desired: 2,
        instances: 2,
        queued: { cpus: 2, memMb: 0, count: 1 },
        running: { cpus: 1, memMb: 0 },
      }),
    );
    expect(d).toMatchObject({ action: 'up', desired: 3 });
  });
});

const arbAgents = fc
  .array(fc.record({ tasks: fc.nat(3), draining: fc.boolean() }), { maxLength: 8 })
  .map((list) => list.map((a, i) => agent(i, a.tasks, a.draining && a.tasks === 0)));

const arbInput = fc
  .record({
    agents: arbAgents,
    min: fc.nat(3),
    span: fc.nat(8),
    runningCpus: fc.integer({ min: 0, max: 40 }),
    queuedCpus: fc.integer({ min: 0, max: 40 }),
    queuedMem: fc.integer({ min: 0, max: 80_000 }),
    extraInstances: fc.nat(2),
    desiredDelta: fc.integer({ min: -2, max: 3 }),
    sinceDown: fc.option(fc.nat(120_000)),
  })
  .map((r) => {
    const desired = Math.max(0, r.agents.length + r.desiredDelta);
    return input({
      settings: settings({ min: r.min, max: r.min + r.span }),
      agents: r.agents,
      running: { cpus: r.runningCpus / 4, memMb: r.runningCpus * 256 },
      queued: { cpus: r.queuedCpus / 4, memMb: r.queuedMem, count: r.queuedCpus },
      desired,
      instances: r.agents.length + r.extraInstances,
      lastScaleDownAt: r.sinceDown === null ? null : 1_000_000 - r.sinceDown,
    });
  });

describe('cluster capacity properties', () => {
  it('never asks for fewer nodes than running + queued demand needs (within max), nor fewer than the busy agents', () => {
    fc.assert(
      fc.property(arbInput, (i) => {
        const d = decideClusterCapacity(i);
        const demand = nodesFor(
          { cpus: i.running.cpus + i.queued.cpus, memMb: i.running.memMb + i.queued.memMb },
          i.settings.node,
        );
        const draining = i.agents.filter((a) => a.draining).length;
        const staying = d.desired - (d.action === 'down' ? 0 : draining);
        expect(staying).toBeGreaterThanOrEqual(Math.min(i.settings.max, Math.max(i.settings.min, demand)));
        if (d.action !== 'hold')
          expect(d.desired).toBeGreaterThanOrEqual(
            Math.min(i.settings.max, i.agents.filter((a) => a.tasks > 0).length),
          );
      }),
    );
  });

  it('never chooses a busy (or already draining) agent, and drains at most one', () => {
    fc.assert(
      fc.property(arbInput, (i) => {
        const d = decideClusterCapacity(i);
        expect(d.drain.length).toBeLessThanOrEqual(1);
        for (const id of d.drain) {
          const a = i.agents.find((x) => x.agentId === id)!;
          expect(a.tasks).toBe(0);
          expect(a.draining).toBe(false);
        }
        expect(d.action === 'down').toBe(d.drain.length === 1);
      }),
    );
  });

  it('never scales down twice within a cooldown (replayed over time, drains completing at once)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ step: fc.integer({ min: 1_000, max: 40_000 }), queued: fc.nat(6) }), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.integer({ min: 1, max: 8 }),
        (steps, start) => {
          let agents = Array.from({ length: start }, (_, k) => agent(k));
          let next = start;
          let lastDown: number | null = null;
          let now = 0;
          const downs: number[] = [];
          for (const s of steps) {
            now += s.step;
            const d = decideClusterCapacity(
              input({
                now,
                agents,
                desired: agents.length,
                instances: agents.length,
                queued: { cpus: s.queued * 2, memMb: 0, count: s.queued },
                lastScaleDownAt: lastDown,
              }),
            );
            if (d.action === 'down') {
              downs.push(now);
              lastDown = now;
              agents = agents.filter((a) => !d.drain.includes(a.agentId));
            } else if (d.action === 'up') {
              while (agents.length < d.desired) agents.push(agent(next++));
            }
          }
          for (let k = 1; k < downs.length; k++)
            expect(downs[k]! - downs[k - 1]!).toBeGreaterThanOrEqual(60_000);
        },
      ),
    );
  });
});
