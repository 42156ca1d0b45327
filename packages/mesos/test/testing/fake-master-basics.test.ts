import { afterEach, describe, expect, it, vi } from 'vitest';
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

/** The TaskStatus of an UPDATE record. */
function updateOf(record: { event: Record<string, unknown> }): Record<string, unknown> {
  return (record.event.update as { status: Record<string, unknown> }).status;
}

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
    // The fake's intervals (heartbeats, allocation) run on a fake clock: "one every interval" is
    // counted, not timed, so a loaded machine cannot make it pass or fail.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      await heartbeatsEveryInterval();
    } finally {
      await mesos?.stop();
      mesos = undefined;
      vi.useRealTimers();
    }
  });

  async function heartbeatsEveryInterval(): Promise<void> {
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
    // Immediate: written right after SUBSCRIBED; the clock has not moved yet.
    const first = await scheduler.stream.nextOfType('HEARTBEAT');
    expect(scheduler.stream.records.indexOf(first)).toBe(1);
    const beats = (): number => scheduler.stream.ofType('HEARTBEAT').length;
    for (const expected of [2, 3]) {
      // Nothing is due 1 ms before the interval (it would be on the stream before the next one).
      vi.advanceTimersByTime(199);
      vi.advanceTimersByTime(1);
      await scheduler.stream.next((r) => r.type === 'HEARTBEAT' && beats() >= expected);
      expect(beats()).toBe(expected);
    }
  }

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
    // The task has run to its end on the agent; RUNNING and FINISHED wait for the acknowledgement.
    await fake.waitFor((s) => s.tasks.find((t) => t.taskId === 't1')?.state === 'TASK_FINISHED', {
      what: 't1 finished on the agent',
    });
    // A later marker: the answer to a RECONCILE is written after anything sent before it.
    await scheduler.call('RECONCILE', {
      reconcile: { tasks: [{ task_id: { value: 't1' }, agent_id: offer.agent_id }] },
    });
    const answer = await scheduler.stream.next(
      (r) => r.type === 'UPDATE' && updateOf(r).reason === 'REASON_RECONCILIATION',
    );
    expect(updateOf(answer).state).toBe('TASK_STARTING');
    expect(scheduler.stream.ofType('UPDATE').filter((r) => updateOf(r).uuid !== undefined)).toHaveLength(1);
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
    // A later marker: a heartbeat that arrives after the task completed (its executor ended before).
    const seen = scheduler.stream.records.length;
    await scheduler.stream.next((r) => r.type === 'HEARTBEAT' && scheduler.stream.records.indexOf(r) >= seen);
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
