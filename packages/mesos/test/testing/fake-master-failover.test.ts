import { afterEach, describe, expect, it } from 'vitest';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';
import { commandTask, frameworkInfo, launch, subscribeScheduler } from './support/test-scheduler.js';
import { JSON_HEADERS, openStream, rawRequest, EventStream } from './support/wire-client.js';

let mesos: FakeMesos | undefined;
afterEach(async () => {
  await mesos?.stop();
  mesos = undefined;
});

const SUBSCRIBE_BODY = { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo() } };

describe('fake master: several masters, one leader', () => {
  it('followers answer 307 with a protocol-relative Location to the leader, also for GET /redirect', async () => {
    mesos = await startFakeMesos({ masters: 3 });
    const leaderPort = new URL(mesos.leaderUrl).port;
    const follower = mesos.masterUrls[1] as string;
    const answer = await rawRequest(follower, {
      path: '/api/v1/scheduler',
      headers: JSON_HEADERS,
      body: SUBSCRIBE_BODY,
    });
    expect(answer.status).toBe(307);
    expect(answer.headers).toContainEqual(['Location', `//127.0.0.1:${leaderPort}/api/v1/scheduler`]);
    const prefixed = await rawRequest(follower, {
      path: '/master/api/v1/scheduler',
      headers: JSON_HEADERS,
      body: SUBSCRIBE_BODY,
    });
    expect(prefixed.headers).toContainEqual([
      'Location',
      `//127.0.0.1:${leaderPort}/master/api/v1/scheduler`,
    ]);
    const probe = await rawRequest(follower, { method: 'GET', path: '/redirect' });
    expect(probe.status).toBe(307);
    expect(probe.headers).toContainEqual(['Location', `//127.0.0.1:${leaderPort}`]);
  });

  it('fails over: the stream aborts, followers answer 503 while there is no leader, the new one 404 while starting', async () => {
    mesos = await startFakeMesos({ masters: 2, masterStartingMs: 300, allocationIntervalMs: 50 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl);
    const oldMasterId = (scheduler.stream.records[0]?.event.subscribed as { master_info: { id: string } })
      .master_info.id;
    const [first, second] = mesos.masterUrls as [string, string];
    const switching = mesos.failover({ to: 1, downMs: 300 });
    expect(await scheduler.stream.ended).toBe('aborted');
    const noLeader = await rawRequest(second, {
      path: '/api/v1/scheduler',
      headers: JSON_HEADERS,
      body: SUBSCRIBE_BODY,
    });
    expect(noLeader).toMatchObject({ status: 503, body: 'No leader elected' });
    await expect(rawRequest(first, { method: 'GET', path: '/redirect' })).rejects.toThrow(/ECONNREFUSED/);
    await mesos.waitFor((s) => s.masters[1]?.phase === 'starting');
    const starting = await rawRequest(second, {
      path: '/api/v1/scheduler',
      headers: JSON_HEADERS,
      body: SUBSCRIBE_BODY,
    });
    expect(starting).toMatchObject({ status: 404, body: '404 Not Found.' });
    expect(starting.headers.map(([n]) => n)).toEqual(['Date', 'Content-Type', 'Content-Length']);
    await switching;
    expect(mesos.leaderUrl).toBe(second);
    const redirected = await rawRequest(first, {
      path: '/api/v1/scheduler',
      headers: JSON_HEADERS,
      body: SUBSCRIBE_BODY,
    });
    expect(redirected.headers).toContainEqual([
      'Location',
      `//127.0.0.1:${new URL(second).port}/api/v1/scheduler`,
    ]);
    const again = await subscribeScheduler(second, frameworkInfo(), scheduler.frameworkId);
    expect(again.frameworkId).toBe(scheduler.frameworkId);
    const newMasterId = (again.stream.records[0]?.event.subscribed as { master_info: { id: string } })
      .master_info.id;
    expect(newMasterId).not.toBe(oldMasterId);
    const offer = (await again.nextOffers())[0] as { id: { value: string } };
    expect(offer.id.value.startsWith(`${newMasterId}-O`)).toBe(true);
  });

  it('with one master, a failover refuses connections while down, then the same framework re-subscribes', async () => {
    mesos = await startFakeMesos({ masterStartingMs: 50 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl);
    const url = mesos.leaderUrl;
    const switching = mesos.failover({ downMs: 300 });
    expect(await scheduler.stream.ended).toBe('aborted');
    await expect(
      rawRequest(url, { path: '/api/v1/scheduler', headers: JSON_HEADERS, body: SUBSCRIBE_BODY }),
    ).rejects.toThrow(/ECONNREFUSED/);
    await switching;
    const again = await subscribeScheduler(url, frameworkInfo(), scheduler.frameworkId);
    expect(again.frameworkId).toBe(scheduler.frameworkId);
  });

  it('does not know a framework after failover until it re-subscribes (400), and answers reconciliation only after agents re-register', async () => {
    // The agent re-registers only when the test says so (below), however slow the machine is.
    mesos = await startFakeMesos({ agentReregisterDelayMs: 600_000, allocationIntervalMs: 50 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl);
    const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
    const agentId = (offer.agent_id as { value: string }).value;
    await scheduler.call('ACCEPT', launch([offer], [commandTask(offer, 'survivor', 'sleep 300')]));
    await scheduler.ack(await scheduler.nextUpdate('survivor', 'TASK_STARTING'));
    await scheduler.ack(await scheduler.nextUpdate('survivor', 'TASK_RUNNING'));
    await mesos.failover();
    const stale = await scheduler.call('REVIVE', { revive: {} });
    expect(stale).toMatchObject({ status: 400, body: 'Framework cannot be found' });
    const again = await subscribeScheduler(mesos.leaderUrl, frameworkInfo(), scheduler.frameworkId);
    await again.call('RECONCILE', {
      reconcile: { tasks: [{ task_id: { value: 'survivor' }, agent_id: offer.agent_id }] },
    });
    // A later marker: a new agent is offered at once, in an allocation that also looks at the
    // recovering one. An answer to the RECONCILE would be on the stream before these offers.
    const added = await mesos.addAgent();
    const offered = await again.nextOffers();
    expect(offered.map((o) => (o.agent_id as { value: string }).value)).toEqual([added]);
    expect(again.stream.ofType('UPDATE')).toHaveLength(0);
    mesos.reregisterAgent(agentId);
    const back = await again.nextOffers();
    expect(back.map((o) => (o.agent_id as { value: string }).value)).toEqual([agentId]);
    await again.call('RECONCILE', {
      reconcile: { tasks: [{ task_id: { value: 'survivor' }, agent_id: offer.agent_id }] },
    });
    expect((await again.nextUpdate('survivor')).state).toBe('TASK_RUNNING');
    expect(again.stream.ofType('UPDATE')).toHaveLength(1);
  });
});

describe('fake master: losing the subscription', () => {
  it('answers 403 while disconnected; a re-SUBSCRIBE keeps the id, gets a new stream id, and the old one is refused', async () => {
    mesos = await startFakeMesos({ allocationIntervalMs: 50 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl);
    expect(mesos.dropSubscription(scheduler.frameworkId)).toBe(true);
    expect(await scheduler.stream.ended).toBe('aborted');
    const refused = await scheduler.call('REVIVE', { revive: {} });
    expect(refused).toMatchObject({ status: 403, body: 'Framework is not subscribed' });
    expect(refused.headers.map(([n, v]) => `${n}: ${n === 'Date' ? '' : v}`)).toEqual([
      'Date: ',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Length: 27',
    ]);
    const again = await subscribeScheduler(mesos.leaderUrl, frameworkInfo(), scheduler.frameworkId);
    expect(again.frameworkId).toBe(scheduler.frameworkId);
    expect(again.streamId).not.toBe(scheduler.streamId);
    const old = await scheduler.call('REVIVE', { revive: {} });
    expect(old.status).toBe(400);
    expect(old.body).toBe(
      `The stream ID '${scheduler.streamId}' included in this request didn't match the stream ID currently associated with framework ID ${scheduler.frameworkId}`,
    );
  });

  it('a second SUBSCRIBE fails the open stream over: ERROR "Framework failed over", then EOF', async () => {
    mesos = await startFakeMesos();
    const first = await subscribeScheduler(mesos.leaderUrl);
    const second = await subscribeScheduler(mesos.leaderUrl, frameworkInfo(), first.frameworkId);
    const error = await first.stream.nextOfType('ERROR');
    expect(error.raw).toBe('{"type":"ERROR","error":{"message":"Framework failed over"}}');
    expect(await first.stream.ended).toBe('eof');
    expect(second.stream.closed).toBe(false);
  });

  it('removes the framework when its failover timeout expires: tasks killed, later SUBSCRIBE gets "Framework has been removed"', async () => {
    mesos = await startFakeMesos({ allocationIntervalMs: 50 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl, frameworkInfo({ failover_timeout: 0.3 }));
    const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
    await scheduler.call('ACCEPT', launch([offer], [commandTask(offer, 'orphan', 'sleep 300')]));
    await scheduler.ack(await scheduler.nextUpdate('orphan', 'TASK_STARTING'));
    mesos.dropSubscription(scheduler.frameworkId);
    await mesos.waitFor((s) => s.removedFrameworks.includes(scheduler.frameworkId), {
      what: 'framework removed',
    });
    await mesos.waitFor((s) => s.tasks.find((t) => t.taskId === 'orphan')?.state === 'TASK_KILLED', {
      what: 'orphan killed',
    });
    const opened = await openStream(mesos.leaderUrl, {
      path: '/api/v1/scheduler',
      headers: JSON_HEADERS,
      body: {
        type: 'SUBSCRIBE',
        framework_id: { value: scheduler.frameworkId },
        subscribe: { framework_info: { ...frameworkInfo(), id: { value: scheduler.frameworkId } } },
      },
    });
    if (!(opened instanceof EventStream)) throw new Error(`expected a stream, got ${opened.status}`);
    expect((await opened.nextOfType('ERROR')).raw).toBe(
      '{"type":"ERROR","error":{"message":"Framework has been removed"}}',
    );
    expect(await opened.ended).toBe('eof');
    expect(opened.records).toHaveLength(1);
  });
});

describe('fake master: losing an agent', () => {
  async function runningOnAgent(options: { partitionAware: boolean }) {
    mesos = await startFakeMesos({ agents: 2, allocationIntervalMs: 50, agentPingTimeoutMs: 300 });
    const caps = options.partitionAware
      ? [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }]
      : [{ type: 'MULTI_ROLE' }];
    const scheduler = await subscribeScheduler(mesos.leaderUrl, frameworkInfo({ capabilities: caps }));
    const offers = await scheduler.nextOffers();
    const offer = offers[0] as Record<string, unknown>;
    await scheduler.call(
      'ACCEPT',
      launch([offer], [commandTask(offer, 'far', 'sleep 300')], { refuse_seconds: 0 }),
    );
    await scheduler.ack(await scheduler.nextUpdate('far', 'TASK_STARTING'));
    await scheduler.ack(await scheduler.nextUpdate('far', 'TASK_RUNNING'));
    const agentId = (offer.agent_id as { value: string }).value;
    await mesos.waitFor((s) => s.offers.some((o) => o.agentId === agentId), {
      what: 'a new offer of the agent',
    });
    return { fake: mesos, scheduler, agentId };
  }

  it('rescinds its offers at once, then TASK_UNREACHABLE (REASON_AGENT_REMOVED) and FAILURE; it comes back RUNNING', async () => {
    const { fake, scheduler, agentId } = await runningOnAgent({ partitionAware: true });
    const held = fake.state().offers.find((o) => o.agentId === agentId);
    fake.loseAgent(agentId, { reregisterAfterMs: 700 });
    // At once: the offer is gone as loseAgent returns, while the agent is only disconnected
    // (unreachable comes after the ping timeout, not now).
    expect(fake.state().offers.some((o) => o.agentId === agentId)).toBe(false);
    expect(fake.state().agents.find((a) => a.id === agentId)?.status).toBe('disconnected');
    expect(fake.state().tasks.find((t) => t.taskId === 'far')?.unreachable).toBe(false);
    const rescind = await scheduler.stream.nextOfType('RESCIND');
    expect(rescind.event.rescind).toEqual({ offer_id: { value: held?.id } });
    const unreachable = await scheduler.nextUpdate('far', 'TASK_UNREACHABLE');
    const order = scheduler.stream.records.map((r) => r.type);
    expect(order.indexOf('RESCIND')).toBeLessThan(order.lastIndexOf('UPDATE'));
    expect(unreachable).toMatchObject({
      message: 'health check timed out',
      source: 'SOURCE_MASTER',
      reason: 'REASON_AGENT_REMOVED',
    });
    expect(unreachable.uuid).toBeUndefined();
    expect(unreachable.executor_id).toBeUndefined();
    const raw = scheduler.stream.ofType('UPDATE').at(-1)?.raw ?? '';
    expect(raw).toMatch(/"unreachable_time":\{"nanoseconds":\d{19}\}/);
    const failure = await scheduler.stream.nextOfType('FAILURE');
    expect(failure.event.failure).toEqual({ agent_id: { value: agentId } });
    const back = await scheduler.nextUpdate('far', 'TASK_RUNNING', 3000);
    expect(back).toMatchObject({
      message: 'Unreachable agent re-reregistered',
      reason: 'REASON_AGENT_REREGISTERED',
      source: 'SOURCE_MASTER',
    });
    expect(back.uuid).toBeUndefined();
  });

  it('reports TASK_LOST to a framework without PARTITION_AWARE', async () => {
    const { fake, scheduler, agentId } = await runningOnAgent({ partitionAware: false });
    fake.loseAgent(agentId);
    const lost = await scheduler.nextUpdate('far', 'TASK_LOST');
    expect(lost.reason).toBe('REASON_AGENT_REMOVED');
  });

  it('rescindOffer sends RESCIND; addAgent gets offered', async () => {
    mesos = await startFakeMesos({ allocationIntervalMs: 50 });
    const scheduler = await subscribeScheduler(mesos.leaderUrl);
    const offer = (await scheduler.nextOffers())[0] as { id: { value: string } };
    expect(mesos.rescindOffer(offer.id.value)).toBe(true);
    expect((await scheduler.stream.nextOfType('RESCIND')).event.rescind).toEqual({ offer_id: offer.id });
    await scheduler.nextOffers();
    const added = await mesos.addAgent({ resources: 'cpus:8;mem:1024', attributes: 'zone:c' });
    const offers = await scheduler.nextOffers();
    expect(offers.map((o) => (o.agent_id as { value: string }).value)).toContain(added);
  });
});

describe('fake master: HTTP basic authentication', () => {
  it('answers 401 with the scheduler realm without credentials, and serves with them', async () => {
    mesos = await startFakeMesos({ authentication: [{ principal: 'galley', secret: 's3cret' }] });
    const anonymous = await rawRequest(mesos.leaderUrl, {
      path: '/api/v1/scheduler',
      headers: JSON_HEADERS,
      body: SUBSCRIBE_BODY,
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers).toContainEqual(['WWW-Authenticate', 'Basic realm="mesos-master-scheduler"']);
    const token = Buffer.from('galley:s3cret').toString('base64');
    const opened = await openStream(mesos.leaderUrl, {
      path: '/api/v1/scheduler',
      headers: [...JSON_HEADERS, ['Authorization', `Basic ${token}`]],
      body: SUBSCRIBE_BODY,
    });
    expect(opened.status).toBe(200);
    if (opened instanceof EventStream) opened.close();
  });
});
