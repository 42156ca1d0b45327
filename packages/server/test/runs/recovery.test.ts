import { describe, expect, it } from 'vitest';
import type { Backend, BackendEvent, ReconcileAnswer } from '../../src/backends/backend.js';
import type { AttemptRecord, RunRecord } from '../../src/model/records.js';
import { recover } from '../../src/runs/recovery.js';
import type { RunRepository } from '../../src/store/store.js';

// Recovery at a restart: what the backend found again is written only where it differs from what
// the store holds, so a restart with many runs going on does not rewrite every attempt.

const host = { hostId: 'here', dnsName: 'here' };

function attempt(attemptId: string, over: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    attemptId,
    runId: attemptId.split('.')[0]!,
    seq: 1,
    cluster: 'local',
    nodeId: 'local',
    epoch: 1,
    state: 'running',
    handle: { pid: 41, startTime: '900', cgroup: null },
    outcome: null,
    createdAt: 1_000,
    launchedAt: 1_100,
    endedAt: null,
    ...over,
  };
}

async function recovered(attempts: AttemptRecord[], answers: ReconcileAnswer[]): Promise<BackendEvent[]> {
  const run = { cpu: 1000, memory: 64, state: { attemptId: null } } as unknown as RunRecord;
  const store = {
    inFlight: async () => attempts.map((a) => ({ run, attempt: a })),
  } as unknown as RunRepository;
  const backend = { cluster: 'local', reconcile: async () => answers } as unknown as Backend;
  const applied: BackendEvent[] = [];
  await recover(
    store,
    [backend],
    async (events) => void applied.push(...events),
    () => 5_000,
  );
  return applied;
}

describe('recovery after a restart', () => {
  it('writes nothing for an attempt found running with the handle it has stored (keys in any order)', async () => {
    const stored = attempt('r1.1');
    const events = await recovered(
      [stored],
      [
        {
          attemptId: 'r1.1',
          state: 'running',
          at: 5_000,
          handle: { cgroup: null, startTime: '900', pid: 41 },
          host,
        },
      ],
    );
    expect(events).toEqual([]);
  });

  it('writes what changed: a new handle, a launching attempt now running, and an end', async () => {
    const events = await recovered(
      [attempt('r1.1'), attempt('r2.1', { state: 'launching', handle: null }), attempt('r3.1')],
      [
        {
          attemptId: 'r1.1',
          state: 'running',
          at: 5_000,
          handle: { pid: 77, startTime: '950', cgroup: null },
          host,
        },
        {
          attemptId: 'r2.1',
          state: 'running',
          at: 5_000,
          handle: { pid: 42, startTime: '901', cgroup: null },
          host,
        },
        { attemptId: 'r3.1', state: 'ended', at: 4_000, outcome: { kind: 'exited', exitCode: 0 } },
      ] as ReconcileAnswer[],
    );
    expect(events.map((e) => [e.type, e.attemptId])).toEqual([
      ['running', 'r1.1'],
      ['running', 'r2.1'],
      ['ended', 'r3.1'],
    ]);
  });
});
