import { describe, expect, it } from 'vitest';
import type { Run, RunEvent } from '../../src/api/types.js';
import { buildTimeline } from '../../src/runs/timeline.js';
import { isStoppable, newerRun, statusLook } from '../../src/runs/status.js';

const base: Run = { run_id: 'r1', definition_id: 'd1', alias: 'a', status: 'QUEUED', queued_at: 1000 };
const ev = (at: number, status: Run['status'], type = status.toLowerCase()): RunEvent => ({
  at,
  status,
  type,
});

describe('status timeline', () => {
  it('a finished run has every step done, with its times', () => {
    const run: Run = { ...base, status: 'STOPPED', started_at: 3000, finished_at: 9000, exit_code: 0 };
    const events = [ev(1000, 'QUEUED'), ev(2000, 'PENDING'), ev(3000, 'RUNNING'), ev(9000, 'STOPPED')];
    expect(buildTimeline(run, events).map((s) => [s.status, s.state, s.at])).toEqual([
      ['QUEUED', 'done', 1000],
      ['PENDING', 'done', 2000],
      ['RUNNING', 'done', 3000],
      ['STOPPED', 'done', 9000],
    ]);
  });

  it('a running run is current at RUNNING and STOPPED is still to come', () => {
    const run: Run = { ...base, status: 'RUNNING', started_at: 3000 };
    const events = [ev(1000, 'QUEUED'), ev(2000, 'PENDING'), ev(3000, 'RUNNING')];
    expect(buildTimeline(run, events).map((s) => s.state)).toEqual(['done', 'done', 'current', 'upcoming']);
  });

  it('a run stopped while queued skips PENDING and RUNNING', () => {
    const run: Run = { ...base, status: 'STOPPED', finished_at: 5000, stop_requested_at: 5000 };
    const steps = buildTimeline(run, [ev(1000, 'QUEUED'), ev(5000, 'STOPPED')]);
    expect(steps.map((s) => s.state)).toEqual(['done', 'skipped', 'skipped', 'done']);
  });

  it('a run waiting for a retry shows NEEDS_RETRY in place of STOPPED', () => {
    const run: Run = { ...base, status: 'NEEDS_RETRY' };
    const events = [ev(1000, 'QUEUED'), ev(2000, 'PENDING'), ev(4000, 'NEEDS_RETRY')];
    const steps = buildTimeline(run, events);
    expect(steps.map((s) => s.status)).toEqual(['QUEUED', 'PENDING', 'RUNNING', 'NEEDS_RETRY']);
    expect(steps[3]).toMatchObject({ state: 'current', at: 4000 });
  });

  it('a retried run shows the latest attempt’s times', () => {
    const run: Run = { ...base, status: 'RUNNING', started_at: 8000 };
    const events = [
      ev(1000, 'QUEUED'),
      ev(2000, 'PENDING'),
      ev(3000, 'NEEDS_RETRY'),
      ev(6000, 'QUEUED'),
      ev(7000, 'PENDING'),
      ev(8000, 'RUNNING'),
    ];
    expect(buildTimeline(run, events)[1]?.at).toBe(7000);
  });
});

describe('status words', () => {
  it.each([
    [{ status: 'STOPPED', exit_code: 0 }, 'Success'],
    [{ status: 'STOPPED', exit_code: 3 }, 'Failed'],
    [{ status: 'STOPPED', exit_code: null, stop_requested_at: 5 }, 'Stopped'],
    [{ status: 'STOPPED', exit_code: null }, 'Failed'],
    [{ status: 'RUNNING' }, 'Running'],
  ] as const)('%o reads %s', (run, label) => {
    expect(statusLook(run).label).toBe(label);
  });

  it('only a run that is not stopped and not already stopping can be stopped', () => {
    expect(isStoppable({ status: 'RUNNING' })).toBe(true);
    expect(isStoppable({ status: 'QUEUED' })).toBe(true);
    expect(isStoppable({ status: 'RUNNING', stop_requested_at: 5 })).toBe(false);
    expect(isStoppable({ status: 'STOPPED' })).toBe(false);
  });
});

describe('newer copy of a run', () => {
  it('keeps what the stream delivered when a load that started earlier answers an older version', () => {
    const fromStream = { version: 4, status: 'RUNNING' };
    const loaded = { version: 3, status: 'PENDING' };
    expect(newerRun(fromStream, loaded)).toBe(fromStream);
    expect(newerRun(loaded, fromStream)).toBe(fromStream);
    expect(newerRun(undefined, loaded)).toBe(loaded);
    // A copy without a version (from a server that does not send one) never wins over a loaded one.
    const unversioned = { status: 'RUNNING' } as unknown as typeof loaded;
    expect(newerRun(unversioned, loaded)).toBe(loaded);
  });
});
