import { parsePipelineSpec } from '@galley/core';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Backend, BackendEvent, LaunchBatch } from '../../src/backends/backend.js';
import type { GroupEvent, GroupLaunch, GroupRunner } from '../../src/backends/group-runner.js';
import { SecretResolver } from '../../src/secrets/resolver.js';
import { SecretsBackend } from '../../src/secrets/secrets-backend.js';
import { SecretStoreError, type SecretStore } from '../../src/secrets/secret-store.js';

// The launch-time wrapper on a recording backend: what the backend is handed, what is reported
// instead when a reference cannot be resolved, and a pipeline launch stopped while it resolves.

/** Galley secrets from a map; `gate` holds reads back until it resolves. */
function store(values: Record<string, string>, gate: Promise<void> = Promise.resolve()): SecretStore {
  return {
    read: async (names: readonly string[]) => {
      await gate;
      const missing = names.find((n) => !(n in values));
      if (missing)
        throw new SecretStoreError('SECRET_NOT_FOUND', `secret:${missing}: no such secret is stored`);
      return new Map(names.map((n) => [n, values[n]!]));
    },
  } as unknown as SecretStore;
}

function recorder() {
  const launched: LaunchBatch[] = [];
  const killed: string[] = [];
  const groups = {
    onEvents: () => {},
    kill: async (id: string) => void killed.push(id),
  } as unknown as GroupRunner;
  const inner = {
    cluster: 'local',
    kind: 'local',
    placement: { groupExecutor: false, portsFromNodes: false },
    groups,
    onEvents: () => {},
    launch: async (batch: LaunchBatch) => void launched.push(batch),
  } as unknown as Backend;
  return { inner, launched, killed };
}

function pipelineLaunch(env: Record<string, string>): GroupLaunch {
  const parsed = parsePipelineSpec({
    id: 'p',
    processes: { w: { command: 'true', shell: true, resources: { cpu: 0.1, mem: 16 }, environment: env } },
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return { launchId: 'p$1.1.x', pipelineId: 'p', instanceId: 'p.1', spec: parsed.spec, queuedAt: 0 };
}

const run = (env: { name: string; value: string }[], attemptId = 'r.1') => ({
  attemptId,
  runId: attemptId.split('.')[0]!,
  seq: 1,
  nodeId: 'local',
  image: '',
  command: 'true',
  env,
  cpus: 0.1,
  memMb: 16,
  gpus: 0,
});

describe('secrets resolved at launch', () => {
  it('hands the backend the values, reports a run whose secret is missing as a configuration failure, and fails a pipeline launch naming it', async () => {
    const { inner, launched } = recorder();
    const backend = new SecretsBackend(inner, new SecretResolver(store({ db: 'v-db' }), null), {
      logger: pino({ level: 'silent' }),
      now: () => 7,
      secretEnv: true,
    });
    const events: BackendEvent[] = [];
    const groupEvents: GroupEvent[] = [];
    backend.onEvents((e) => void events.push(...e));
    backend.groups!.onEvents(async (e) => void groupEvents.push(...e));
    const good = pipelineLaunch({ DB: 'secret:db' });
    const bad = { ...pipelineLaunch({ X: 'vault:a/b#c' }), launchId: 'p$2.1.y' };
    await backend.launch({
      runs: [
        run([
          { name: 'DB', value: 'secret:db' },
          { name: 'A', value: 'plain' },
        ]),
        run([{ name: 'N', value: 'secret:nope' }], 's.1'),
      ],
      groups: [
        { launch: good, nodeId: 'local', ports: {} },
        { launch: bad, nodeId: 'local', ports: {} },
      ],
    });
    expect(launched).toHaveLength(1);
    expect(launched[0]!.runs.map((r) => [r.attemptId, r.env, r.secretEnv])).toEqual([
      [
        'r.1',
        [
          { name: 'DB', value: 'v-db' },
          { name: 'A', value: 'plain' },
        ],
        ['DB'],
      ],
    ]);
    expect(
      launched[0]!.groups.map((g) => [g.launch.launchId, g.launch.spec.processes['w']!.environment]),
    ).toEqual([['p$1.1.x', { DB: 'v-db' }]]);
    // The stored launch keeps its reference.
    expect(good.spec.processes['w']!.environment).toEqual({ DB: 'secret:db' });
    await expect.poll(() => events.length + groupEvents.length).toBe(2);
    expect(events).toEqual([
      {
        type: 'ended',
        attemptId: 's.1',
        at: 7,
        outcome: {
          kind: 'host-failure',
          reason: 'configuration failure',
          message: 'env N: secret:nope: no such secret is stored',
        },
      },
    ]);
    expect(groupEvents).toEqual([
      expect.objectContaining({
        type: 'process-ended',
        launchId: 'p$2.1.y',
        process: 'w',
        end: expect.objectContaining({
          state: 'TASK_FAILED',
          message: 'process w: env X: vault:a/b#c: Vault is not configured (set --vault-addr)',
        }),
      }),
    ]);
  });

  it('hands over at once what needs no secret, and never a pipeline launch stopped while its secrets were read (its processes end killed)', async () => {
    const { inner, launched, killed } = recorder();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const backend = new SecretsBackend(inner, new SecretResolver(store({ db: 'v' }, gate), null), {
      logger: pino({ level: 'silent' }),
      now: () => 1,
      secretEnv: false,
    });
    const groupEvents: GroupEvent[] = [];
    backend.groups!.onEvents(async (e) => void groupEvents.push(...e));
    const launch = pipelineLaunch({ DB: 'secret:db' });
    const done = backend.launch({
      runs: [run([{ name: 'A', value: 'plain' }], 'plain.1')],
      groups: [{ launch, nodeId: 'local', ports: {} }],
    });
    // A run that needs no secret is not held up by the read.
    await expect.poll(() => launched.map((b) => b.runs.map((r) => r.attemptId))).toEqual([['plain.1']]);
    await backend.groups!.kill(launch.launchId);
    open();
    await done;
    expect(killed).toEqual([launch.launchId]);
    expect(launched.flatMap((b) => b.groups)).toEqual([]);
    await expect
      .poll(() => groupEvents)
      .toEqual([
        expect.objectContaining({
          type: 'process-ended',
          end: expect.objectContaining({ state: 'TASK_KILLED' }),
        }),
      ]);
  });
});
