import { afterEach, describe, expect, it } from 'vitest';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import { commandTask, frameworkInfo, launch, subscribeScheduler } from './support/test-scheduler.js';

const AGENTS = [
  { resources: 'cpus:2;mem:4096;disk:10000;ports:[31000-32000]', attributes: 'zone:a' },
  { resources: 'cpus:2;mem:4096;disk:10000;ports:[32001-33000]', attributes: 'zone:b' },
];

let mesos: FakeMesos | undefined;
afterEach(async () => {
  await mesos?.stop();
  mesos = undefined;
});

async function start(options: Parameters<typeof startFakeMesos>[0] = {}): Promise<FakeMesos> {
  mesos = await startFakeMesos({
    agents: AGENTS,
    heartbeatIntervalSeconds: 0.2,
    allocationIntervalMs: 50,
    ...options,
  });
  return mesos;
}

describe('fake master: subscription', () => {
  it('answers SUBSCRIBE with the recorded headers, SUBSCRIBED, an immediate HEARTBEAT, then one every interval', async () => {
    const fake = await start();
    const scheduler = await subscribeScheduler(fake.leaderUrl);
    expect(scheduler.stream.headers.map(([name]) => name)).toEqual([
      'Date',
      'Transfer-Encoding',
      'Mesos-Stream-Id',
      'Content-Type',
    ]);
    expect(scheduler.stream.headers.slice(1).map(([, v]) => v)).toEqual([
      'chunked',
      scheduler.streamId,
      'application/json',
    ]);
    const subscribed = scheduler.stream.records[0];
    expect(subscribed?.raw).toMatch(
      /^\{"type":"SUBSCRIBED","subscribed":\{"framework_id":\{"value":"[0-9a-f-]+-0000"\},"heartbeat_interval_seconds":0\.2,"master_info":\{"id":/,
    );
    const first = await scheduler.stream.nextOfType('HEARTBEAT');
    const second = await scheduler.stream.nextOfType('HEARTBEAT', 2000);
    const third = await scheduler.stream.nextOfType('HEARTBEAT', 2000);
    expect(first.at).toBeLessThan(150);
    expect(third.at - second.at).toBeGreaterThan(120);
    expect(third.at - second.at).toBeLessThan(600);
  });

  it('offers each agent once with the recorded layout: ports first, role "*", allocation_info, /slave(1), TEXT attributes', async () => {
    const fake = await start();
    const scheduler = await subscribeScheduler(fake.leaderUrl);
    const offers = await scheduler.nextOffers();
    expect(offers).toHaveLength(2);
    const record = scheduler.stream.ofType('OFFERS')[0];
    expect(record?.raw).toContain(
      '"resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":3',
    );
    expect(record?.raw).toContain(
      '{"name":"cpus","type":"SCALAR","scalar":{"value":2.0},"role":"*","allocation_info":{"role":"*"}}',
    );
    expect(record?.raw).toContain(
      '"attributes":[{"name":"zone","type":"TEXT","text":{"value":"a"}}],"allocation_info":{"role":"*"}}',
    );
    for (const offer of offers) {
      expect(Object.keys(offer)).toEqual([
        'id',
        'framework_id',
        'agent_id',
        'hostname',
        'url',
        'resources',
        'attributes',
        'allocation_info',
      ]);
      expect((offer.url as { path: string }).path).toBe('/slave(1)');
      expect((offer.resources as Array<{ name: string }>).map((r) => r.name)).toEqual([
        'ports',
        'cpus',
        'mem',
        'disk',
      ]);
    }
  });

  it('writes offers without allocation_info for a framework without MULTI_ROLE, and without role with RESERVATION_REFINEMENT', async () => {
    const fake = await start();
    const legacy = await subscribeScheduler(
      fake.leaderUrl,
      frameworkInfo({ roles: undefined, capabilities: [{ type: 'PARTITION_AWARE' }] }),
    );
    const legacyRaw = (await legacy.stream.nextOfType('OFFERS')).raw;
    expect(legacyRaw).not.toContain('allocation_info');
    expect(legacyRaw).toContain('"role":"*"');
    await legacy.call('TEARDOWN');
    const refined = await subscribeScheduler(
      fake.leaderUrl,
      frameworkInfo({ capabilities: [{ type: 'MULTI_ROLE' }, { type: 'RESERVATION_REFINEMENT' }] }),
    );
    const refinedRaw = (await refined.stream.nextOfType('OFFERS')).raw;
    expect(refinedRaw).toContain('"allocation_info":{"role":"*"}');
    expect(refinedRaw).not.toContain('"role":"*",');
  });

  it('ends the stream with a clean EOF and no ERROR after TEARDOWN', async () => {
    const fake = await start();
    const scheduler = await subscribeScheduler(fake.leaderUrl);
    const answer = await scheduler.call('TEARDOWN');
    expect(answer.status).toBe(202);
    expect(answer.headers.map(([n]) => n)).toEqual(['Date', 'Content-Length']);
    expect(await scheduler.stream.ended).toBe('eof');
    expect(scheduler.stream.ofType('ERROR')).toHaveLength(0);
    expect(fake.state().removedFrameworks).toContain(scheduler.frameworkId);
  });
});

describe('fake master: launching command tasks (simulate mode)', () => {
  it('sends STARTING, RUNNING and FINISHED one at a time, each only after the previous was acknowledged', async () => {
    const fake = await start();
    const scheduler = await subscribeScheduler(fake.leaderUrl);
    const offers = await scheduler.nextOffers();
    const offer = offers[0] as Record<string, unknown>;
    expect(
      (await scheduler.call('ACCEPT', launch([offer], [commandTask(offer, 't1', 'sleep 0.1')]))).status,
    ).toBe(202);
    const starting = await scheduler.nextUpdate('t1', 'TASK_STARTING');
    await new Promise((r) => setTimeout(r, 300));
    expect(scheduler.stream.ofType('UPDATE')).toHaveLength(1);
    await scheduler.ack(starting);
    const running = await scheduler.nextUpdate('t1', 'TASK_RUNNING');
    await scheduler.ack(running);
    const finished = await scheduler.nextUpdate('t1', 'TASK_FINISHED');
    expect(finished.message).toBe('Command exited with status 0');
    expect(finished.reason).toBeUndefined();
    for (const status of [starting, running, finished]) {
      expect(status.source).toBe('SOURCE_EXECUTOR');
      expect(Buffer.from(String(status.uuid), 'base64')).toHaveLength(16);
      expect(status.executor_id).toEqual({ value: 't1' });
      expect(status.agent_id).toEqual(offer.agent_id);
      expect(Object.keys(status.container_status as object)).toEqual([
        'container_id',
        'network_infos',
        'executor_pid',
      ]);
    }
    await scheduler.ack(finished);
    await fake.waitFor((s) => s.tasks.find((t) => t.taskId === 't1')?.completed, { what: 't1 completed' });
    await new Promise((r) => setTimeout(r, 200));
    expect(scheduler.stream.ofType('FAILURE')).toHaveLength(0);
    expect(fake.state().tasks[0]?.states).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  });

  it('reports a non-zero exit as TASK_FAILED "Command exited with status 3" without a reason', async () => {
    const fake = await start();
    const scheduler = await subscribeScheduler(fake.leaderUrl);
    const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
    await scheduler.call('ACCEPT', launch([offer], [commandTask(offer, 'exit-3', 'echo oops >&2; exit 3')]));
    await scheduler.ack(await scheduler.nextUpdate('exit-3', 'TASK_STARTING'));
    await scheduler.ack(await scheduler.nextUpdate('exit-3', 'TASK_RUNNING'));
    const failed = await scheduler.nextUpdate('exit-3', 'TASK_FAILED');
    expect(failed.message).toBe('Command exited with status 3');
    expect(failed.reason).toBeUndefined();
  });

  it('re-sends an unacknowledged update with the same uuid until it is acknowledged', async () => {
    const fake = await start({ statusUpdateRetryMs: { initial: 100, max: 400 } });
    const scheduler = await subscribeScheduler(fake.leaderUrl);
    const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
    await scheduler.call('ACCEPT', launch([offer], [commandTask(offer, 'retried', 'sleep 30')]));
    const first = await scheduler.nextUpdate('retried', 'TASK_STARTING');
    const again = await scheduler.nextUpdate('retried', 'TASK_STARTING', 2000);
    expect(again.uuid).toBe(first.uuid);
    await scheduler.ack(again);
    const running = await scheduler.nextUpdate('retried', 'TASK_RUNNING');
    expect(running.uuid).not.toBe(first.uuid);
  });

  it('lists the launch in the call log and accounts for the task on its agent', async () => {
    const fake = await start();
    const scheduler = await subscribeScheduler(fake.leaderUrl);
    const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
    await scheduler.call(
      'ACCEPT',
      launch([offer], [commandTask(offer, 'seen', 'sleep 30')], { refuse_seconds: 120 }),
    );
    const accepts = fake.calls({ type: 'ACCEPT' });
    expect(accepts).toHaveLength(1);
    expect(accepts[0]?.status).toBe(202);
    expect((accepts[0]?.body?.accept as { filters: unknown }).filters).toEqual({ refuse_seconds: 120 });
    const agentId = (offer.agent_id as { value: string }).value;
    const agent = fake.state().agents.find((a) => a.id === agentId);
    expect(agent?.used).toBe('cpus:0.1; mem:32');
    const filter = fake.state().filters.find((f) => f.agentId === agentId);
    expect(filter?.resources).toMatch(/^ports:\[3\d+-3\d+\]; cpus:1\.9; mem:4064; disk:10000$/);
    expect((filter?.expiresAt ?? 0) - Date.now()).toBeGreaterThan(100_000);
  });
});
