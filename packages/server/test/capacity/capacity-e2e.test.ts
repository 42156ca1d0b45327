import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer } from '../api/harness.js';
import { startFakeAsg, type FakeAsg } from './fake-asg.js';

/**
 * Cluster capacity per Mesos role, end to end in one process: Galley (PGlite, a Mesos cluster of
 * role `batch`) against the fake Mesos master and the fake ASG. Demand for `batch` raises the
 * group's desired capacity; the test boots the new agent as the group would; once one agent is
 * idle it is drained through Mesos maintenance — schedule, Galley's SDK accepts the inverse
 * offer, START_MAINTENANCE (DOWN) — and only then is its instance terminated with the desired
 * capacity decremented; the busy agent is never chosen. A dry-run role beside it records what it
 * would do and calls nothing.
 */

const FIRST = 'i-0a00000000000001';
const SECOND = 'i-0a00000000000002';
const KEY_ENV = 'GALLEY_TEST_CAPACITY_ASG_KEY';
const SECRET_ENV = 'GALLEY_TEST_CAPACITY_ASG_SECRET';

let mesos: FakeMesos;
let asg: FakeAsg;
let server: Awaited<ReturnType<typeof startTestServer>>;
let dir: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read loosely
type Json = any;

async function api(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  payload?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await server.app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: res.statusCode, body: res.json() };
}

async function runStatus(runId: string): Promise<string> {
  return (await api('GET', `/api/v1/history/${runId}`)).body.status as string;
}

function eventually<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
): Promise<T> {
  return vi.waitFor(
    async () => {
      const v = await check();
      if (v === undefined || v === false) throw new Error(`still waiting for ${what}`);
      return v;
    },
    { timeout: 60_000, interval: 50 },
  );
}

describe('cluster capacity per Mesos role (fake master, fake ASG)', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    mesos = await startFakeMesos({
      agents: [{ hostname: FIRST, resources: 'cpus:2;mem:4096;disk:10000;ports:[31000-32000]' }],
      allocationIntervalMs: 50,
      heartbeatIntervalSeconds: 2,
      executorStartMs: 5,
      statusUpdateRetryMs: { initial: 200, max: 1_000 },
    });
    asg = await startFakeAsg([
      {
        name: 'asg-batch',
        min: 1,
        max: 3,
        desired: 1,
        instances: [{ instanceId: FIRST, state: 'InService' }],
      },
    ]);
    process.env[KEY_ENV] = asg.accessKeyId;
    process.env[SECRET_ENV] = asg.secretAccessKey;
    dir = await mkdtemp(join(tmpdir(), 'galley-capacity-'));
    const file = join(dir, 'capacity.json');
    await writeFile(
      file,
      JSON.stringify({
        interval_seconds: 0.1,
        aws: {
          region: asg.region,
          endpoint: asg.url,
          access_key_id_env: KEY_ENV,
          secret_access_key_env: SECRET_ENV,
        },
        roles: {
          batch: {
            provider: 'aws-asg',
            group: 'asg-batch',
            min: 1,
            max: 3,
            node: { cpus: 2, mem: 4096 },
            cooldown_seconds: 0,
          },
          spare: {
            provider: 'dry-run',
            group: 'asg-spare',
            min: 0,
            max: 5,
            node: { cpus: 2, mem: 4096 },
            cooldown_seconds: 3600,
          },
        },
      }),
    );
    server = await startTestServer({
      flags: {
        backend: 'mesos',
        mesosMaster: mesos.leaderUrl.replace(/^http:\/\//, ''),
        mesosRoles: 'batch',
        mesosRefuseSeconds: '1',
        mesosOfferHoldMs: '100',
        mesosReconcileDelayMs: '300',
        mesosReviveIntervalMs: '100',
        capacityConfig: file,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await mesos?.stop();
    await asg?.stop();
    delete process.env[KEY_ENV];
    delete process.env[SECRET_ENV];
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('raises the desired capacity for queued batch demand, and lowers it only after draining the idle agent (never the busy one)', async () => {
    const defined = await api('POST', '/api/v1/task', {
      alias: 'batch-job',
      image: 'ubuntu:24.04',
      command: 'sleep 300',
      memory: 512,
      cpu: 1500,
      role: 'batch',
    });
    expect(defined.status).toBe(200);
    const runIds: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await api('PUT', '/api/v1/task/alias/batch-job/execute', {
        run_tags: { owner_id: 'tester' },
      });
      expect(res.status).toBe(200);
      runIds.push(res.body.run_id as string);
    }
    // 2 × 1.5 cpus on 2-cpu nodes: two nodes, at once.
    await eventually('SetDesiredCapacity 2', () =>
      asg.calls('SetDesiredCapacity').find((c) => c.params.DesiredCapacity === '2'),
    );
    expect(asg.group('asg-batch').desired).toBe(2);
    expect(asg.calls('TerminateInstanceInAutoScalingGroup')).toEqual([]);

    // The group boots the instance; its agent registers.
    const secondAgent = await mesos.addAgent({
      hostname: SECOND,
      resources: 'cpus:2;mem:4096;disk:10000;ports:[32001-33000]',
    });
    asg.launch('asg-batch', SECOND);
    for (const id of runIds)
      await eventually(`run ${id} running`, async () => (await runStatus(id)) === 'RUNNING');
    const agentOf = (runId: string) => mesos.state().tasks.find((t) => t.taskId === `${runId}.1`)?.agentId;
    const onSecond = runIds.find((id) => agentOf(id) === secondAgent)!;
    const onFirst = runIds.find((id) => id !== onSecond)!;
    expect(onSecond).toBeDefined();

    // The run on the new agent ends; the first agent stays busy. The idle one is drained and removed.
    await server.runs.requestStop(onSecond, 'test: the work on the second agent is done');
    const terminate = await eventually(
      'TerminateInstanceInAutoScalingGroup',
      () => asg.calls('TerminateInstanceInAutoScalingGroup')[0],
    );
    expect(terminate.params).toMatchObject({ InstanceId: SECOND, ShouldDecrementDesiredCapacity: 'true' });
    expect(asg.group('asg-batch')).toMatchObject({ desired: 1, instances: [{ instanceId: FIRST }] });

    // The order across master and group: schedule → Galley accepts the inverse offer → DOWN → terminate.
    const calls = mesos.calls();
    const schedule = calls.findIndex(
      (c) => c.api === 'operator' && c.type === 'UPDATE_MAINTENANCE_SCHEDULE' && c.status === 200,
    );
    const accepted = calls.findIndex((c) => c.type === 'ACCEPT_INVERSE_OFFERS' && c.status === 202);
    const down = calls.findIndex((c) => c.type === 'START_MAINTENANCE' && c.status === 200);
    expect(schedule).toBeGreaterThanOrEqual(0);
    expect(accepted).toBeGreaterThan(schedule);
    expect(down).toBeGreaterThan(accepted);
    expect(calls[down]!.at).toBeLessThanOrEqual(terminate.at);
    expect(calls[schedule]!.body).toMatchObject({
      update_maintenance_schedule: {
        schedule: { windows: [{ machine_ids: [{ hostname: SECOND, ip: '127.0.0.1' }] }] },
      },
    });
    // The busy agent was never scheduled for maintenance, and its run goes on.
    const scheduled = calls
      .filter((c) => c.type === 'UPDATE_MAINTENANCE_SCHEDULE' || c.type === 'START_MAINTENANCE')
      .map((c) => JSON.stringify(c.body));
    expect(scheduled.some((b) => b.includes(FIRST))).toBe(false);
    expect(await runStatus(onFirst)).toBe('RUNNING');
    await eventually('STOP_MAINTENANCE', () => mesos.calls({ type: 'STOP_MAINTENANCE', status: 200 })[0]);
    expect(mesos.state().agents.find((a) => a.id === secondAgent)?.status).toBe('gone');
    expect(mesos.state().maintenance.machines).toEqual([]);

    // The API: per role, nodes, demand, agents and the decisions with their reasons.
    const capacity = await eventually('the capacity after the drain', async () => {
      const res = await api('GET', '/api/v1/clusters/mesos/capacity?decisions=100');
      const batch = res.body.roles?.find((r: { role: string }) => r.role === 'batch');
      return batch?.decisions.some((d: { action: string }) => d.action === 'done') ? res.body : undefined;
    });
    const batch = capacity.roles.find((r: { role: string }) => r.role === 'batch');
    expect(batch).toMatchObject({ provider: 'aws-asg', group: 'asg-batch', min: 1, max: 3, draining: [] });
    const actions = (batch.decisions as Array<{ action: string }>).map((d) => d.action).reverse();
    // (A drain that found Galley still tracking the stopped run is declined, given up and begun again.)
    const steps = actions.filter((a) => a !== 'hold');
    expect(steps[0]).toBe('up');
    expect(steps.slice(-4)).toEqual(['drain', 'down', 'terminate', 'done']);
    expect(batch.decisions.find((d: { action: string }) => d.action === 'up').reason).toMatch(
      // The running run's agent also holds its shared galley-executor (0.1 cpus, 32 MB).
      /^demand 3\.1 cpus, 1056 MB .*desired 1 → 2/,
    );
    expect(batch.decisions.find((d: { action: string }) => d.action === 'drain').reason).toContain(SECOND);

    // The dry-run role recorded what it would do and called nothing: no group of its own was
    // asked anything, no maintenance named another machine.
    const spare = capacity.roles.find((r: { role: string }) => r.role === 'spare');
    expect(spare.provider).toBe('dry-run');
    expect(spare.decisions.some((d: { reason: string }) => d.reason.includes('dry run: would'))).toBe(true);
    expect(asg.calls().every((c) => c.params.AutoScalingGroupName !== 'asg-spare')).toBe(true);
    expect(asg.calls('TerminateInstanceInAutoScalingGroup')).toHaveLength(1);
    expect(mesos.calls({ api: 'operator', type: 'START_MAINTENANCE' })).toHaveLength(1);

    expect((await api('GET', '/api/v1/clusters/nowhere/capacity')).status).toBe(404);
    const tooMany = await api('GET', '/api/v1/clusters/mesos/capacity?decisions=500');
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(tooMany.body)).toContain('decisions');
  });
});
