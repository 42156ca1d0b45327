import { describe, expect, it } from 'vitest';
import {
  computePipeline,
  DEFAULT_RESTART_BACKOFF,
  DEFAULT_UPDATE_STRATEGY,
  describeInstance,
  instanceTransition,
  isFailingToLaunch,
  newInstanceState,
  parsePipelineSpec,
  pipelineFailure,
  servingProblems,
} from '@galley/core';
import type { InstanceEvent, InstanceState, PipelineDesired } from '@galley/core';

// Launch failures back off as crash loops do and make the pipeline `failing`; a stored spec the
// server cannot serve is found before anything is planned for it (issue 12 item 3).

const policy = DEFAULT_RESTART_BACKOFF;
const T0 = 5_000_000;
const fresh = (n = 1): InstanceState =>
  newInstanceState({ instanceId: `p.${n}`, number: n, version: 1 }, T0, false);
const apply = (state: InstanceState, ...events: InstanceEvent[]): InstanceState =>
  events.reduce((s, e) => instanceTransition(s, e, policy), state);
const launchFailed = (at: number): InstanceEvent => ({
  type: 'launch-failed',
  at,
  process: 'parse',
  message: 'ENAMETOOLONG: name too long',
});
const desired: PipelineDesired = {
  pipelineId: 'p',
  version: 1,
  instances: 1,
  strategy: { ...DEFAULT_UPDATE_STRATEGY },
  instanceSeq: 1,
};

describe('launch failures', () => {
  it('back off 1 s, 2 s, 4 s … as crashes do, and become a crash loop after 3 within a minute', () => {
    let s = fresh();
    const delays: number[] = [];
    for (let k = 0; k < 5; k++) {
      const at = s.launchedAt + 10;
      s = apply(s, launchFailed(at));
      delays.push((s.restartAt as number) - at);
      s = apply(s, { type: 'restarting', at: s.restartAt as number });
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(s.crashLoopingSince).not.toBeNull();
    expect(s.restarts).toBe(5);
  });

  it('are not host failures: a lost instance still restarts at once, without penalty', () => {
    const lost = apply(
      fresh(),
      { type: 'running', at: T0 + 1 },
      { type: 'lost', at: T0 + 2, reason: 'agent gone' },
    );
    expect(lost.restartAt).toBe(T0 + 2);
    expect(lost.consecutiveFailures).toBe(0);
    const failed = apply(fresh(), launchFailed(T0 + 2));
    expect(failed.restartAt).toBe(T0 + 1002);
    expect(failed.consecutiveFailures).toBe(1);
  });

  it('apply only to a launch that has not run (a running instance fails by exiting or being lost)', () => {
    const running = apply(fresh(), { type: 'running', at: T0 + 1 });
    expect(apply(running, launchFailed(T0 + 2))).toBe(running);
  });

  it('the reconciler restarts it only once the backoff has passed, and asks to be called then', () => {
    const failed = apply(fresh(), launchFailed(T0 + 10));
    const early = computePipeline(desired, [failed], null, T0 + 500);
    expect(early.restart).toEqual([]);
    expect(early.launch).toEqual([]);
    expect(early.followUpAt).toBe(T0 + 1010);
    const due = computePipeline(desired, [failed], null, T0 + 1010);
    expect(due.restart).toEqual([
      {
        instanceId: 'p.1',
        reason: 'restart 1: its launch failed (process parse): ENAMETOOLONG: name too long',
      },
    ]);
  });

  it('show on the instance until a launch runs, and make the pipeline failing with the reason', () => {
    const failed = apply(fresh(), launchFailed(T0 + 10));
    expect(isFailingToLaunch(failed)).toBe(true);
    expect(describeInstance(failed, T0 + 10)).toEqual({
      status: 'backing-off',
      message: 'its launch failed (process parse): ENAMETOOLONG: name too long; restarting in 1 s',
    });
    const retrying = apply(failed, { type: 'restarting', at: T0 + 1010 });
    expect(isFailingToLaunch(retrying)).toBe(true);
    expect(describeInstance(retrying, T0 + 1010).message).toBe(
      'retrying: its launch failed (process parse): ENAMETOOLONG: name too long',
    );
    expect(pipelineFailure([fresh(2), retrying], T0 + 1010)).toBe(
      'instance p.1 cannot be launched: its launch failed (process parse): ENAMETOOLONG: name too long',
    );
    const ran = apply(retrying, { type: 'running', at: T0 + 1100 });
    expect(isFailingToLaunch(ran)).toBe(false);
    expect(pipelineFailure([ran], T0 + 1100)).toBeNull();
  });

  it('a crash loop makes the pipeline failing while the instance is down; stopping instances count for nothing', () => {
    let s = apply(fresh(), { type: 'running', at: T0 });
    for (const at of [T0 + 100, T0 + 1200, T0 + 3300]) {
      s = apply(
        s,
        { type: 'process-exited', at, process: 'parse', exitCode: 3, message: 'no broker' },
        { type: 'restarting', at: at + 1 },
        { type: 'running', at: at + 1 },
      );
    }
    // Up again: the instance still shows its crash loop, the pipeline is not failing now.
    expect(describeInstance(s, T0 + 3400).status).toBe('crash-looping');
    expect(pipelineFailure([s], T0 + 3400)).toBeNull();
    s = apply(s, {
      type: 'process-exited',
      at: T0 + 3500,
      process: 'parse',
      exitCode: 3,
      message: 'no broker',
    });
    expect(pipelineFailure([s], T0 + 3600)).toBe(
      'instance p.1 is crash-looping: process parse exited with code 3 (no broker)',
    );
    const stopping = apply(s, { type: 'stop-requested', at: T0 + 3700, reason: 'scaled down' });
    expect(pipelineFailure([stopping], T0 + 3700)).toBeNull();
  });
});

describe('stored specs the server cannot serve', () => {
  const valid = (): Record<string, unknown> => {
    const parsed = parsePipelineSpec({
      id: 'ok',
      processes: {
        parse: {
          command: 'sleep 100',
          resources: { cpu: 0.1, mem: 16 },
          port_mappings: [{ host_port: 0 }],
          health_check: { protocol: 'HTTP', interval_seconds: 5 },
        },
      },
      instances: 3,
    });
    if (!parsed.ok) throw new Error('the seed spec is invalid');
    return structuredClone(parsed.spec) as unknown as Record<string, unknown>;
  };

  it('a complete spec within the bounds has no problem', () => {
    expect(servingProblems(valid())).toEqual([]);
  });

  it('names a billion instances, a 5,000-character id and a 1e308 s interval', () => {
    const spec = valid();
    spec['instances'] = 1e9;
    spec['id'] = 'x'.repeat(5000);
    const parse = (spec['processes'] as Record<string, Record<string, unknown>>)['parse']!;
    (parse['health_check'] as Record<string, unknown>)['interval_seconds'] = 1e308;
    expect(servingProblems(spec)).toEqual([
      {
        field: 'id',
        message:
          'an id of 5000 characters is not a pipeline id the server can serve: 1 to 63 letters, digits, _ or -',
      },
      {
        field: 'instances',
        message: '1000000000 is beyond what the server can serve: a whole number from 0 to 1000',
      },
      {
        field: 'processes.parse.health_check.interval_seconds',
        message: '1e+308 is beyond what the server can serve: a number from 0.1 to 3600 s',
      },
    ]);
  });

  it('names ids that are no file or route name, odd numbers and broken shapes, never throwing', () => {
    const spec = valid();
    spec['id'] = '../etc';
    spec['processes'] = { 'a/b': { resources: { cpu: Number.NaN, mem: 1 }, kill_grace_period: 1e12 } };
    spec['update_strategy'] = { progress_deadline_seconds: Infinity, max_surge: '1000%' };
    expect(servingProblems(spec).map((p) => p.field)).toEqual([
      'id',
      'processes.a/b',
      'processes.a/b.resources.cpu',
      'processes.a/b.kill_grace_period',
      'update_strategy.max_surge',
      'update_strategy.progress_deadline_seconds',
    ]);
    for (const broken of [null, 3, 'x', [], {}, { id: 'a', processes: [] }, { id: 'a', processes: { p: 1 } }])
      expect(servingProblems(broken).length).toBeGreaterThan(0);
  });
});
