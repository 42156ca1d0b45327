import { describe, expect, it } from 'vitest';
import { classifyPipelineChange, parsePipelineSpec, resolveCount, rollingBounds } from '@galley/core';
import type { PipelineSpec } from '@galley/core';

/** The seed's example pipeline (faustian.md, "Pipeline Definition"), unchanged. */
const seedExample = {
  id: 'string',
  container: { image: 'string', network: 'HOST' },
  environment: {},
  processes: {
    parse: {
      id: 'parse',
      arguments: ['worker', '-l', 'info'],
      environment: {},
      resources: { cpu: 0.29, mem: 512 },
      port_mappings: [{ host_port: 0, container_port: 6066, protocol: 'tcp' }],
      kill_grace_period: 30,
    },
  },
  executor_resources: { cpu: 0.01, mem: 32, disk: 1 },
  instances: 5,
};

function parsed(input: unknown): PipelineSpec {
  const result = parsePipelineSpec(input);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
}

describe('pipeline spec', () => {
  it("accepts the seed's example unchanged and fills Galley's defaults", () => {
    const spec = parsed(seedExample);
    expect(spec.instances).toBe(5);
    expect(spec.processes.parse).toMatchObject({
      id: 'parse',
      arguments: ['worker', '-l', 'info'],
      shell: false,
      resources: { cpu: 0.29, mem: 512, disk: 0 },
      kill_grace_period: 30,
    });
    expect(spec.roles).toEqual([]);
    expect(spec.labels).toEqual({});
    expect(spec.update_strategy).toEqual({
      max_surge: '25%',
      max_unavailable: 0,
      min_healthy_seconds: 10,
      progress_deadline_seconds: 300,
      auto_rollback: true,
    });
  });

  it('fills kill_grace_period 30 and executor_resources {0.01, 32, 1} when absent', () => {
    const { executor_resources: _omit, ...withoutExecutor } = seedExample;
    const spec = parsed({
      ...withoutExecutor,
      processes: { parse: { arguments: [], resources: { cpu: 1, mem: 64 } } },
    });
    expect(spec.processes.parse?.kill_grace_period).toBe(30);
    expect(spec.executor_resources).toEqual({ cpu: 0.01, mem: 32, disk: 1 });
  });

  it.each([
    [{ ...seedExample, id: 'bad id!' }, 'id'],
    [{ ...seedExample, processes: {} }, 'processes'],
    [{ ...seedExample, instances: -1 }, 'instances'],
    [{ ...seedExample, instances: 1.5 }, 'instances'],
    [{ ...seedExample, container: { image: '' } }, 'container.image'],
    [{ ...seedExample, container: { image: 'x', network: 'OVERLAY' } }, 'container.network'],
    [
      { ...seedExample, processes: { parse: { id: 'other', resources: { cpu: 1, mem: 1 } } } },
      'processes.parse.id',
    ],
    [
      { ...seedExample, processes: { parse: { resources: { cpu: 0, mem: 1 } } } },
      'processes.parse.resources.cpu',
    ],
    [
      { ...seedExample, processes: { parse: { resources: { cpu: 1, mem: 1 }, kill_grace_period: -1 } } },
      'processes.parse.kill_grace_period',
    ],
    [
      {
        ...seedExample,
        processes: { parse: { resources: { cpu: 1, mem: 1 }, port_mappings: [{ host_port: 70000 }] } },
      },
      'processes.parse.port_mappings.0.host_port',
    ],
    [
      { ...seedExample, container: undefined, processes: { parse: { resources: { cpu: 1, mem: 1 } } } },
      'processes.parse.command',
    ],
    [{ ...seedExample, update_strategy: { max_surge: '150%' } }, 'update_strategy.max_surge'],
    [{ ...seedExample, update_strategy: { max_unavailable: -1 } }, 'update_strategy.max_unavailable'],
    [
      { ...seedExample, update_strategy: { progress_deadline_seconds: 0 } },
      'update_strategy.progress_deadline_seconds',
    ],
    [
      {
        ...seedExample,
        processes: { parse: { resources: { cpu: 1, mem: 1 }, health_check: { protocol: 'HTTP' } } },
      },
      'processes.parse.health_check.port_index',
    ],
    [
      {
        ...seedExample,
        processes: { parse: { resources: { cpu: 1, mem: 1 }, health_check: { protocol: 'COMMAND' } } },
      },
      'processes.parse.health_check.command',
    ],
  ])('names the field of a bad spec: %#', (input, field) => {
    const result = parsePipelineSpec(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.field)).toContain(field);
  });

  it('reports every problem, not only the first', () => {
    const result = parsePipelineSpec({ id: '!', processes: {}, instances: -1 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.field)).toEqual(['id', 'processes', 'instances']);
  });
});

describe('pipeline changes', () => {
  const base = parsed(seedExample);
  it.each([
    ['the same spec', base, 'unchanged'],
    ['only instances', { ...base, instances: 9 }, 'scale'],
    [
      'instances and the strategy',
      { ...base, instances: 9, update_strategy: { ...base.update_strategy, max_surge: 2 } },
      'scale',
    ],
    [
      'only the strategy',
      { ...base, update_strategy: { ...base.update_strategy, max_surge: 2 } },
      'strategy',
    ],
    ['the image', { ...base, container: { image: 'v2', network: 'HOST' as const } }, 'update'],
    ['the environment and instances', { ...base, environment: { A: '1' }, instances: 2 }, 'update'],
    ['labels', { ...base, labels: { team: 'x' } }, 'update'],
  ])('%s → %s', (_name, after, kind) => {
    expect(classifyPipelineChange(base, after as PipelineSpec)).toBe(kind);
  });
});

describe('surge and unavailable counts', () => {
  it.each([
    ['25%', 4, 'up', 1],
    ['25%', 5, 'up', 2],
    ['25%', 5, 'down', 1],
    ['25%', 3, 'down', 0],
    [2, 10, 'up', 2],
    ['100%', 3, 'up', 3],
    ['0%', 3, 'up', 0],
  ] as const)('%s of %d rounded %s = %d', (value, instances, round, expected) => {
    expect(resolveCount(value, instances, round)).toBe(expected);
  });

  it('takes a surge of 1 when both surge and unavailable are 0, so an update can move', () => {
    const bounds = rollingBounds(
      { ...parsed(seedExample).update_strategy, max_surge: 0, max_unavailable: 0 },
      4,
    );
    expect(bounds).toMatchObject({ surge: 1, unavailable: 0 });
  });
});
