/**
 * Session behaviour on wire faults the fake master cannot produce, against a purpose-built
 * scheduler endpoint: a 503 then success, a malformed RecordIO header, a stream cut in the middle
 * of a record, a record that is not JSON, ERROR events, and the exact headers of every request.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type SchedulerLifecycleEvents,
  type SchedulerOptions,
  createScheduler,
  encodeRecord,
} from '@galley/mesos';
import { type ScriptedMaster, startScriptedMaster, subscribedRecord } from '../support/scripted-master.js';
import { ManualClock } from '../support/manual-clock.js';
import { waitFor } from '../support/wait.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const fastBackoff = { minMs: 20, maxMs: 100, factor: 2, jitter: 0 };

async function master(
  script: Parameters<typeof startScriptedMaster>[0],
  callStatus?: (type: string) => number,
  callDelayMs?: (type: string) => number,
): Promise<ScriptedMaster> {
  const m = await startScriptedMaster(script, callStatus, callDelayMs);
  cleanups.push(() => m.close());
  return m;
}

function scheduler(m: ScriptedMaster, extra: Partial<SchedulerOptions> = {}) {
  const s = createScheduler({
    master: `127.0.0.1:${m.port}`,
    framework: { user: 'root', name: 'wire-faults' },
    backoff: fastBackoff,
    reconciliation: { tasks: () => [], periodMs: 0 },
    ...extra,
  });
  const log: { [K in keyof SchedulerLifecycleEvents]?: SchedulerLifecycleEvents[K][] } = {};
  for (const name of ['disconnected', 'reconnecting', 'subscribed', 'stopped', 'error'] as const) {
    s.on(name, (payload) => ((log[name] ??= []) as unknown[]).push(payload));
  }
  cleanups.push(() => s.stop());
  s.start();
  return { s, log };
}

describe('scheduler session on wire faults (purpose-built server)', () => {
  it('backs off after a 503 (no leader) and subscribes on the next attempt', async () => {
    const m = await master([
      { status: 503, body: 'No leader elected' },
      { stream: (res) => res.write(subscribedRecord('fw-1')) },
    ]);
    const { s, log } = scheduler(m);
    await s.subscribed();
    expect(log.disconnected?.[0]).toMatchObject({
      reason: 'subscribe-failed',
      error: { code: 'MESOS_UNAVAILABLE', status: 503 },
    });
    expect(log.reconnecting?.[0]).toEqual({ delayMs: 20, attempt: 1 });
    expect(s.id).toBe('fw-1');
  });

  it('sends SUBSCRIBE without Mesos-Stream-Id, then every call with it, exact Content-Type and basic auth', async () => {
    const m = await master([{ stream: (res) => res.write(subscribedRecord('fw-2')), streamId: 'sid-42' }]);
    const { s } = scheduler(m, { credentials: { principal: 'galley', secret: 'pw' } });
    await s.subscribed();
    await s.revive();
    await s.decline(['offer-1'], { refuse_seconds: 60 });
    const [sub] = m.subscribes();
    expect(sub?.headers['mesos-stream-id']).toBeUndefined();
    expect(JSON.parse(sub?.body ?? '')).toMatchObject({
      type: 'SUBSCRIBE',
      subscribe: {
        framework_info: { user: 'root', name: 'wire-faults', failover_timeout: 604800, checkpoint: true },
      },
    });
    expect(JSON.parse(sub?.body ?? '')).not.toHaveProperty('framework_id');
    for (const r of [...m.subscribes(), ...m.calls()]) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['accept']).toBe('application/json');
      expect(r.headers['authorization']).toBe(`Basic ${Buffer.from('galley:pw').toString('base64')}`);
    }
    await waitFor('the implicit RECONCILE after SUBSCRIBED', () =>
      m.calls().some((c) => c.call.type === 'RECONCILE'),
    );
    const seen = m.calls().map((c) => [c.call.type, c.headers['mesos-stream-id'], c.call['framework_id']]);
    expect(seen).toHaveLength(3);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['REVIVE', 'sid-42', { value: 'fw-2' }],
        ['DECLINE', 'sid-42', { value: 'fw-2' }],
        ['RECONCILE', 'sid-42', { value: 'fw-2' }],
      ]),
    );
  });

  it('drops a stream with a malformed RecordIO header (bad-stream) and resubscribes with the framework id', async () => {
    const m = await master([
      { stream: (res) => res.write(Buffer.concat([subscribedRecord('fw-3'), Buffer.from('12x\n{}')])) },
      { stream: (res) => res.write(subscribedRecord('fw-3')) },
    ]);
    const { s, log } = scheduler(m);
    await waitFor('second subscription', () => log.subscribed?.length === 2);
    expect(log.disconnected?.[0]).toMatchObject({
      reason: 'bad-stream',
      error: { code: 'RECORDIO_INVALID_HEADER' },
    });
    const second = JSON.parse(m.subscribes()[1]?.body ?? '') as Record<string, unknown>;
    expect(second).toMatchObject({
      framework_id: { value: 'fw-3' },
      subscribe: { framework_info: { id: { value: 'fw-3' } } },
    });
    expect(log.subscribed?.[1]).toMatchObject({ frameworkId: 'fw-3', resubscribed: true });
    expect(s.state.phase).toBe('SUBSCRIBED');
  });

  it('treats a stream cut in the middle of a record as a disconnect (stream-error) and resubscribes', async () => {
    const m = await master([
      {
        stream: (res) => {
          res.write(Buffer.concat([subscribedRecord('fw-4'), Buffer.from('200\n{"type":"OFFERS","offe')]));
          setTimeout(() => res.socket?.destroy(), 50);
        },
      },
      { stream: (res) => res.write(subscribedRecord('fw-4')) },
    ]);
    const { log } = scheduler(m);
    await waitFor('resubscription', () => log.subscribed?.length === 2);
    expect(log.disconnected?.[0]?.reason).toBe('stream-error');
  });

  it('treats a record that is not JSON as a lost framing (bad-stream)', async () => {
    const m = await master([
      {
        stream: (res) =>
          res.write(Buffer.concat([subscribedRecord('fw-5'), encodeRecord('{"type":"HEARTBEAT"')])),
      },
      { stream: (res) => res.write(subscribedRecord('fw-5')) },
    ]);
    const { log } = scheduler(m);
    await waitFor('resubscription', () => log.subscribed?.length === 2);
    expect(log.disconnected?.[0]).toMatchObject({
      reason: 'bad-stream',
      error: { code: 'MESOS_JSON_INVALID' },
    });
  });

  it('resubscribes after a clean EOF (stream-ended)', async () => {
    const m = await master([
      { stream: (res) => res.end(subscribedRecord('fw-6')) },
      { stream: (res) => res.write(subscribedRecord('fw-6')) },
    ]);
    const { log } = scheduler(m);
    await waitFor('resubscription', () => log.subscribed?.length === 2);
    expect(log.disconnected?.[0]?.reason).toBe('stream-ended');
  });

  it('stops for good on ERROR "Framework failed over" and never subscribes again', async () => {
    const m = await master([
      {
        stream: (res) => {
          res.write(subscribedRecord('fw-7'));
          setTimeout(
            () => res.end(encodeRecord('{"type":"ERROR","error":{"message":"Framework failed over"}}')),
            30,
          );
        },
      },
    ]);
    const seen: string[] = [];
    const { s, log } = scheduler(m, { handlers: { ERROR: (event) => void seen.push(event.error.message) } });
    await waitFor('stopped', () => log.stopped?.length === 1);
    expect(s.state).toEqual({ phase: 'STOPPED', reason: 'failed-over' });
    expect(log.error?.[0]?.error).toMatchObject({ code: 'MESOS_ERROR_EVENT' });
    await waitFor('handler saw the ERROR', () => seen.length === 1);
    // Its loop is over for good; a reconnect would have come before that.
    await s.ended;
    expect(m.subscribes()).toHaveLength(1);
    await expect(s.revive()).rejects.toMatchObject({ code: 'MESOS_NOT_SUBSCRIBED' });
  });

  it('retries with backoff after any other ERROR (a rejected subscription)', async () => {
    const m = await master([
      {
        stream: (res) =>
          res.end(
            encodeRecord(
              '{"type":"ERROR","error":{"message":"Role \'x\' is not present in the master\'s --roles"}}',
            ),
          ),
      },
      { stream: (res) => res.write(subscribedRecord('fw-8')) },
    ]);
    const { s, log } = scheduler(m);
    await s.subscribed();
    expect(log.disconnected?.[0]?.reason).toBe('subscription-rejected');
  });

  it('follows a protocol-relative 307 to the leader (spec §1.7, §9.8)', async () => {
    const leader = await master([{ stream: (res) => res.write(subscribedRecord('fw-9')) }]);
    const follower = await master([
      { status: 307, headers: { Location: `//127.0.0.1:${leader.port}/api/v1/scheduler` } },
    ]);
    const { s } = scheduler(follower);
    const state = await s.subscribed();
    expect(state.master).toBe(`http://127.0.0.1:${leader.port}/`);
    await s.suppress();
    expect(leader.calls().map((c) => c.call.type)).toContain('SUPPRESS');
    expect(follower.calls()).toHaveLength(0);
  });

  it('gives up a redirect loop after maxRedirects hops and backs off', async () => {
    const a = await master(
      Array.from({ length: 10 }, () => ({ status: 307, headers: { Location: '//127.0.0.1:1/' } })),
    );
    const { log } = scheduler(a, { maxRedirects: 0 });
    await waitFor('a failed attempt', () => log.disconnected?.length);
    expect(log.disconnected?.[0]).toMatchObject({
      reason: 'subscribe-failed',
      error: { code: 'MESOS_TOO_MANY_REDIRECTS', cause: { code: 'MESOS_NOT_LEADER' } },
    });
  });

  it('drops a stream that goes silent for N heartbeat intervals (heartbeat-timeout) and resubscribes', async () => {
    const m = await master([
      { stream: (res) => res.write(subscribedRecord('fw-10', 0.05)) },
      { stream: (res) => res.write(subscribedRecord('fw-10', 15)) },
    ]);
    const clock = new ManualClock();
    const { s, log } = scheduler(m, { heartbeatMissLimit: 3, clock });
    await s.subscribed();
    // Silent for just under 3 × 50 ms: still subscribed; at 3 intervals it gives up on the stream.
    clock.advance(149);
    expect(log.disconnected ?? []).toEqual([]);
    clock.advance(1);
    await waitFor('the stream dropped', () => log.disconnected?.length === 1);
    expect(log.disconnected?.[0]?.reason).toBe('heartbeat-timeout');
    expect(m.subscribes()).toHaveLength(1);
    // The backoff before resubscribing runs on the same clock.
    await waitFor('resubscription', () => {
      clock.advance(100);
      return log.subscribed?.length === 2;
    });
  });

  it('drops the subscription when a call is answered 403 (not subscribed) and resubscribes', async () => {
    const m = await master(
      [
        { stream: (res) => res.write(subscribedRecord('fw-11')) },
        { stream: (res) => res.write(subscribedRecord('fw-11')) },
      ],
      (type) => (type === 'REVIVE' ? 403 : 202),
    );
    const { s, log } = scheduler(m);
    await s.subscribed();
    await expect(s.revive()).rejects.toMatchObject({ code: 'MESOS_FORBIDDEN', subscriptionLost: true });
    await waitFor('resubscription', () => log.subscribed?.length === 2);
    expect(log.disconnected?.[0]?.reason).toBe('call-rejected');
  });

  it('sends SUPPRESS and REVIVE one after another: each only once the one before is answered', async () => {
    // Over many keep-alive connections a REVIVE sent right after a slow SUPPRESS could reach the
    // master first and leave the framework suppressed with work waiting.
    const m = await master([{ stream: (res) => res.write(subscribedRecord('fw-12')) }], undefined, (type) =>
      type === 'SUPPRESS' ? 300 : 0,
    );
    const { s } = scheduler(m);
    await s.subscribed();
    await Promise.all([s.suppress(['a']), s.revive(['a']), s.suppress(['b']), s.decline(['o-1'])]);
    const seen = m
      .calls()
      .map((c) => c.call.type)
      .filter((t) => t !== 'RECONCILE');
    expect(seen.filter((t) => t !== 'DECLINE')).toEqual(['SUPPRESS', 'REVIVE', 'SUPPRESS']);
    // DECLINE is not held behind them.
    expect(seen.indexOf('DECLINE')).toBeLessThan(seen.indexOf('REVIVE'));
    const firstSuppressAnswered = m.answered.find((a) => a.type === 'SUPPRESS')!.at;
    const revive = m.calls().find((c) => c.call.type === 'REVIVE')!;
    expect(revive.at).toBeGreaterThanOrEqual(firstSuppressAnswered);
  });

  it('still sends a REVIVE after the SUPPRESS before it failed', async () => {
    const m = await master([{ stream: (res) => res.write(subscribedRecord('fw-13')) }], (type) =>
      type === 'SUPPRESS' ? 400 : 202,
    );
    const { s } = scheduler(m);
    await s.subscribed();
    const [suppressed, revived] = await Promise.allSettled([s.suppress(['a']), s.revive(['a'])]);
    expect(suppressed.status).toBe('rejected');
    expect(revived.status).toBe('fulfilled');
    const seen = m.calls().map((c) => c.call.type);
    expect(seen.filter((t) => t !== 'RECONCILE')).toEqual(['SUPPRESS', 'REVIVE']);
  });
});
