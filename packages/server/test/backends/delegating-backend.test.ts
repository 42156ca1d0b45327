import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AttemptRef, Backend } from '../../src/backends/backend.js';
import { DelegatingBackend } from '../../src/backends/delegating-backend.js';
import type { GroupRunner } from '../../src/backends/group-runner.js';
import { TermBackend } from '../../src/control/term-backend.js';
import { SecretResolver } from '../../src/secrets/resolver.js';
import { SecretsBackend } from '../../src/secrets/secrets-backend.js';
import type { SecretStore } from '../../src/secrets/secret-store.js';

// The wrappers around a backend (secrets at launch, one backend per leadership term) forward every
// part of the Backend contract they do not change; an optional part the backend lacks stays absent.

/** The Backend contract's calls (listeners aside) and the arguments to make them with. */
const CALLS: [keyof Backend, unknown[]][] = [
  ['start', []],
  ['capacity', []],
  ['openRound', []],
  ['launch', [{ runs: [], groups: [] }]],
  ['kill', ['r.1', 1000]],
  ['reconcile', [[]]],
  ['logs', [{ attemptId: 'r.1' } as AttemptRef, 'stdout', 0, 10]],
  ['describe', []],
  ['waiting', [{ byRole: new Map(), newWork: new Set() }]],
  ['executorLogs', [{ attemptId: 'r.1' } as AttemptRef, 'stdout', 0, 10]],
  ['close', []],
];

/** A backend that records each call (by name, with the backend's tag), with or without its optional parts. */
function recording(tag: string, calls: string[], optional: boolean): Backend {
  const answer = (name: string) =>
    name === 'capacity' ? [] : name === 'openRound' ? { nodes: [], close() {} } : {};
  const groups = { onEvents: () => {}, problems: () => (calls.push(`${tag}:groups.problems`), []) };
  const backend: Record<string, unknown> = {
    cluster: 'c',
    kind: 'local',
    placement: { groupExecutor: false, portsFromNodes: false },
    onEvents: () => {},
    onCapacity: () => {},
    groups: groups as unknown as GroupRunner,
  };
  for (const [name] of CALLS) {
    if (!optional && (name === 'waiting' || name === 'executorLogs')) continue;
    backend[name] = (..._args: unknown[]) => {
      calls.push(`${tag}:${name}`);
      const value = answer(name);
      return name === 'capacity' || name === 'openRound' || name === 'describe' || name === 'waiting'
        ? value
        : Promise.resolve(value);
    };
  }
  return backend as unknown as Backend;
}

class Plain extends DelegatingBackend {}

const noSecrets = new SecretResolver({ read: async () => new Map() } as unknown as SecretStore, null);
const wrappers: [string, (inner: () => Backend) => Backend][] = [
  ['a plain DelegatingBackend', (inner) => new Plain(inner())],
  [
    'SecretsBackend',
    (inner) =>
      new SecretsBackend(inner(), noSecrets, {
        logger: pino({ level: 'silent' }),
        now: Date.now,
        secretEnv: false,
      }),
  ],
  ['TermBackend', (inner) => new TermBackend(inner)],
];

describe.each(wrappers)('%s', (_, wrap) => {
  it('forwards every call of the contract, the optional ones and the pipeline runner included', async () => {
    const calls: string[] = [];
    const wrapper = wrap(() => recording('inner', calls, true));
    for (const [name, args] of CALLS)
      await (wrapper[name] as (...a: unknown[]) => unknown).call(wrapper, ...args);
    wrapper.groups!.problems({} as never);
    expect(calls).toEqual([...CALLS.map(([name]) => `inner:${name}`), 'inner:groups.problems']);
  });

  it('leaves out the optional parts the backend does not have', () => {
    const wrapper = wrap(() => recording('inner', [], false));
    expect(wrapper.waiting).toBeUndefined();
    expect(wrapper.executorLogs).toBeUndefined();
  });
});

describe('TermBackend', () => {
  it('forwards to the backend of the current term after a term ended', async () => {
    const calls: string[] = [];
    let term = 0;
    const wrapper = new TermBackend(() => recording(`term${term++}`, calls, true));
    await wrapper.close();
    await wrapper.executorLogs!({ attemptId: 'r.1' } as AttemptRef, 'stdout', 0, 10);
    wrapper.groups!.problems({} as never);
    expect(calls).toEqual(['term0:close', 'term1:executorLogs', 'term1:groups.problems']);
  });
});
