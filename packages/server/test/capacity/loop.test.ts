import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type {
  MasterAgent,
  MasterMaintenance,
  MaintenanceWindow,
} from '../../src/backends/mesos/maintenance.js';
import type { Leadership } from '../../src/control/leadership.js';
import { parseCapacityConfig, type RoleCapacity } from '../../src/capacity/config.js';
import { CapacityLoop } from '../../src/capacity/loop.js';
import type { CapacityProvider, GroupState } from '../../src/capacity/provider.js';
import { CapacityRecords } from '../../src/capacity/records.js';
import { openStore } from '../../src/store/open.js';

/**
 * The capacity loop's failure paths on scripted seams (a master and a provider that record what
 * they are asked): a provider call that fails changes nothing and the record says why; a framework
 * that declines the inverse offer ends the drain — the machine leaves the schedule and no
 * instance is terminated.
 */

const ROLE: RoleCapacity = {
  role: 'batch',
  cluster: 'mesos',
  provider: 'aws-asg',
  group: 'asg-batch',
  min: 1,
  max: 3,
  node: { cpus: 2, memMb: 4096 },
  cooldownMs: 0,
  drainTimeoutMs: 600_000,
};

const agent = (n: number): MasterAgent => ({
  id: `S${n}`,
  hostname: `i-0${n}`,
  ip: '10.0.0.' + n,
  cpus: 2,
  memMb: 4096,
  usedCpus: 0,
  usedMemMb: 0,
  tasks: 0,
});

function setUp(opts: {
  group: GroupState;
  failSetDesired?: string;
  statuses?: Array<{ fw: string; status: 'ACCEPT' | 'DECLINE' }>;
  queuedCpus?: number;
  agents?: MasterAgent[];
  records?: CapacityRecords;
}) {
  const calls: string[] = [];
  let schedule: MaintenanceWindow[] = [];
  const master = {
    agents: async () => opts.agents ?? [agent(1), agent(2)],
    schedule: async () => schedule,
    updateSchedule: async (w: MaintenanceWindow[]) => {
      calls.push(
        `UPDATE_MAINTENANCE_SCHEDULE ${w.flatMap((x) => x.machine_ids.map((m) => m.hostname)).join(',')}`,
      );
      schedule = w;
    },
    status: async () => ({
      draining_machines: schedule.flatMap((w) =>
        w.machine_ids.map((id) => ({
          id,
          statuses: (opts.statuses ?? []).map((s) => ({ status: s.status, framework_id: { value: s.fw } })),
        })),
      ),
      down_machines: [],
    }),
    start: async () => void calls.push('START_MAINTENANCE'),
    stop: async () => void calls.push('STOP_MAINTENANCE'),
  } as unknown as MasterMaintenance;
  const provider: CapacityProvider = {
    kind: 'aws-asg',
    describe: async () => opts.group,
    setDesired: async (_g, n) => {
      calls.push(`SetDesiredCapacity ${n}`);
      if (opts.failSetDesired) throw new Error(opts.failSetDesired);
    },
    terminate: async (_g, id) => void calls.push(`TerminateInstanceInAutoScalingGroup ${id}`),
  };
  const records = opts.records ?? new CapacityRecords(undefined);
  let now = 1_000_000;
  const loop = new CapacityLoop({
    cluster: 'mesos',
    roles: [ROLE],
    intervalMs: 1000,
    view: () => ({
      master,
      frameworkId: 'fw-galley',
      tasksOn: () => 0,
      inverseAnswer: () => undefined,
      wantOffers: () => void calls.push('REVIVE'),
    }),
    queued: async () => new Map([['batch', { cpus: opts.queuedCpus ?? 3, memMb: 0, count: 2 }]]),
    provider: () => provider,
    records,
    leadership: { isLeader: () => true, onChange: () => {} } as unknown as Leadership,
    clock: { now: () => (now += 1000) },
    logger: pino({ level: 'silent' }),
  });
  return { loop, calls, records };
}

const group = (desired: number, ids: string[]): GroupState => ({
  desired,
  min: 0,
  max: 5,
  instances: ids.map((instanceId) => ({ instanceId, state: 'InService' })),
});

describe('capacity loop on scripted seams', () => {
  it('leaves the group as it is when SetDesiredCapacity fails, and records why', async () => {
    const { loop, calls, records } = setUp({
      group: group(1, ['i-01']),
      failSetDesired: 'Rate exceeded (Throttling)',
    });
    await loop.runOnce();
    expect(calls).toEqual(['SetDesiredCapacity 2']);
    const [last] = await records.decisions('mesos', 'batch');
    expect(last).toMatchObject({ action: 'error', current: 1, desired: 1 });
    expect(last?.reason).toContain(
      'SetDesiredCapacity failed: Rate exceeded (Throttling); the group is left as it is',
    );
  });

  it('gives a drain up when a framework declines the inverse offer: the machine leaves the schedule, nothing is terminated', async () => {
    const { loop, calls, records } = setUp({
      group: group(2, ['i-01', 'i-02']),
      statuses: [
        { fw: 'fw-galley', status: 'ACCEPT' },
        { fw: 'fw-other', status: 'DECLINE' },
      ],
      // No demand: one of the two idle agents is drained (the first by hostname).
      queuedCpus: 0,
    });
    await loop.runOnce();
    expect(calls).toEqual(['UPDATE_MAINTENANCE_SCHEDULE i-01', 'REVIVE']);
    expect((await records.state('mesos', 'batch')).drain).toMatchObject({
      agentId: 'S1',
      phase: 'scheduled',
    });
    await loop.runOnce();
    expect(calls.slice(2, 3)).toEqual(['UPDATE_MAINTENANCE_SCHEDULE ']);
    expect(calls.some((c) => c.startsWith('START_MAINTENANCE') || c.startsWith('Terminate'))).toBe(false);
    expect((await records.state('mesos', 'batch')).drain).toBeNull();
    const cancel = (await records.decisions('mesos', 'batch')).find((d) => d.action === 'cancel');
    expect(cancel?.reason).toContain('fw-other declined the inverse offer for i-01');
  });
});

describe('capacity loop after a restart (PGlite store)', () => {
  it('goes on with a drain where the store says it was: a machine already DOWN is terminated, not scheduled again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'galley-capacity-store-'));
    const store = await openStore({ dataDir: dir });
    try {
      const records = new CapacityRecords(store.sql);
      const drain = { agentId: 'S2', hostname: 'i-02', ip: '10.0.0.2', instanceId: 'i-02', startedAt: 5 };
      await records.saveState(
        'mesos',
        'batch',
        { lastScaleDownAt: 5, drain: { ...drain, phase: 'down' } },
        6,
      );
      // A new leader's loop: the DOWN machine's agent is gone from the master.
      const { loop, calls } = setUp({
        group: group(2, ['i-01', 'i-02']),
        records,
        queuedCpus: 0,
        agents: [agent(1)],
      });
      await loop.runOnce();
      expect(calls).toEqual(['TerminateInstanceInAutoScalingGroup i-02']);
      expect((await records.state('mesos', 'batch')).drain).toMatchObject({ phase: 'terminated' });
      await loop.runOnce();
      expect(calls).toEqual(['TerminateInstanceInAutoScalingGroup i-02', 'STOP_MAINTENANCE']);
      expect(await records.state('mesos', 'batch')).toEqual({ lastScaleDownAt: 5, drain: null });
      const steps = (await records.decisions('mesos', 'batch')).map((d) => d.action);
      expect(steps.filter((a) => a !== 'hold')).toEqual(['done', 'terminate']);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('capacity config', () => {
  it('names each field that is wrong', () => {
    const problems: string[] = [];
    parseCapacityConfig(
      {
        interval_seconds: 0,
        roles: {
          batch: {
            provider: 'aws-asg',
            group: 'asg-batch',
            min: 3,
            max: 1,
            node: { cpus: 0, mem: 1024 },
            extra: 1,
          },
          spare: { provider: 'gcp', group: '', node: { cpus: 1, mem: 1 }, min: 0, max: 1 },
        },
      },
      'mesos',
      problems,
    );
    expect(problems).toEqual([
      'interval_seconds: must be a number ≥ 0.05 and ≤ 3600',
      'roles.batch.provider: "aws-asg" needs the "aws" settings',
      'roles.batch.max: must be ≥ min',
      'roles.batch.node.cpus: must be a number ≥ 0.01 and ≤ 4096',
      'roles.batch.extra: unknown field',
      'roles.spare.provider: must be "aws-asg" or "dry-run"',
      expect.stringMatching(/^roles\.spare\.group: must be a string matching/),
    ]);
  });
});
