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

  it('fills the defaults of nested fields left out, and keeps the ones given', () => {
    const spec = parsed({
      id: 'p',
      container: { image: 'img' },
      processes: {
        web: {
          resources: { cpu: 1, mem: 64 },
          port_mappings: [{ host_port: 0 }],
          health_check: { protocol: 'HTTP' },
        },
      },
      executor_resources: { mem: 64 },
      update_strategy: { max_surge: 2 },
    });
    expect(spec.container).toEqual({ image: 'img', network: 'HOST' });
    expect(spec.instances).toBe(1);
    expect(spec.environment).toEqual({});
    expect(spec.processes.web?.port_mappings).toEqual([{ host_port: 0, container_port: 0, protocol: 'tcp' }]);
    expect(spec.executor_resources).toEqual({ cpu: 0.01, mem: 64, disk: 1 });
    expect(spec.update_strategy).toMatchObject({ max_surge: 2, max_unavailable: 0, min_healthy_seconds: 10 });
  });

  it('answers a complete spec unchanged (a PATCH re-parses the stored spec with the change)', () => {
    const spec = parsed(seedExample);
    expect(parsed(spec)).toEqual(spec);
    expect(parsed({ ...spec, instances: 7 })).toEqual({ ...spec, instances: 7 });
  });

  // Types and bounds of single fields (an id's characters, instances ≥ 0, cpu > 0, ports …) are
  // the server's schema's: packages/server/test/api/pipeline-schema.test.ts. Here: the rules
  // between fields.
  it.each([
    [
      { ...seedExample, processes: { parse: { id: 'other', resources: { cpu: 1, mem: 1 } } } },
      'processes.parse.id',
    ],
    [
      { ...seedExample, container: undefined, processes: { parse: { resources: { cpu: 1, mem: 1 } } } },
      'processes.parse.command',
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
        processes: {
          parse: {
            resources: { cpu: 1, mem: 1 },
            port_mappings: [{ host_port: 0 }],
            health_check: { protocol: 'TCP', port_index: 1 },
          },
        },
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
    [
      {
        ...seedExample,
        processes: {
          parse: { resources: { cpu: 1, mem: 1 }, health_check: { protocol: 'COMMAND', command: '' } },
        },
      },
      'processes.parse.health_check.command',
    ],
  ])('names the field of a bad spec: %#', (input, field) => {
    const result = parsePipelineSpec(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.field)).toContain(field);
  });

  it('accepts what those rules allow: a command with an image is optional, a COMMAND check needs no port', () => {
    const spec = parsed({
      ...seedExample,
      processes: {
        parse: {
          resources: { cpu: 1, mem: 1 },
          health_check: { protocol: 'COMMAND', command: 'true' },
        },
      },
    });
    expect(spec.processes.parse?.command).toBeUndefined();
    expect(spec.processes.parse?.health_check).toEqual({ protocol: 'COMMAND', command: 'true' });
  });

  it('reports every problem, not only the first', () => {
    const result = parsePipelineSpec({
      id: 'p',
      processes: {
        a: { id: 'b', resources: { cpu: 1, mem: 1 } },
        c: { command: 'true', resources: { cpu: 1, mem: 1 }, health_check: { protocol: 'TCP' } },
      },
    });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.problems.map((p) => p.field)).toEqual([
        'processes.a.id',
        'processes.a.command',
        'processes.c.health_check.port_index',
      ]);
  });

  it('refuses what is not an object at all', () => {
    expect(parsePipelineSpec([seedExample])).toMatchObject({ ok: false, problems: [{ field: '' }] });
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
