import { describe, expect, it } from 'vitest';
import {
  buildTask,
  instanceName,
  newTaskId,
  parseTaskId,
  resolveSpecs,
  restartDelay,
  serialVariable,
  TaskSpecError,
} from '@galley/mesos/extras';
import type { TaskSpec } from '@galley/mesos/extras';

const base: TaskSpec = {
  command: {
    value: 'env',
    environment: {
      variables: [
        { name: 'A', value: '1' },
        { name: 'HOST', value: 'mine' },
      ],
    },
  },
  resources: { cpus: 0.1, mem: 32, ports: 2 },
};

function one(spec: TaskSpec, name = 'web') {
  const [resolved] = resolveSpecs({ [name]: spec });
  if (resolved === undefined) throw new Error('no spec');
  return resolved;
}

describe('task names and ids', () => {
  it('names instances <name>-<serial> and gives every launch a fresh id', () => {
    expect(instanceName('web', 3)).toBe('web-3');
    let n = 0;
    const random = (): number => (n += 0.123456) % 1;
    const a = newTaskId('my-app', 3, random);
    const b = newTaskId('my-app', 3, random);
    expect(a).toMatch(/^my-app-3\.[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(parseTaskId(a)).toEqual({ spec: 'my-app', serial: 3 });
    const used = new Set(['web-1.000000000000', 'web-1.000000000001']);
    expect(
      newTaskId(
        'web',
        1,
        () => 0,
        (id) => used.has(id),
      ),
    ).toBe('web-1.000000000002');
  });

  it.each(['web', 'web-1', 'web-0.abc', 'other.framework.task', 'web-1.XYZ'])(
    'does not claim foreign id %s',
    (id) => {
      expect(parseTaskId(id)).toBeUndefined();
    },
  );

  it('spells the serial variable like mesos-framework', () => {
    expect(serialVariable('my-app')).toBe('TASK_MY_APP_SERIAL_NUMBER');
  });
});

describe('task specs', () => {
  it('fills defaults', () => {
    const s = one(base);
    expect(s.instances).toBe(1);
    expect(s.priority).toBe(0);
    expect([...s.restartOn]).toContain('TASK_FAILED');
    expect([...s.restartOn]).not.toContain('TASK_FINISHED');
    expect(s.backoff).toEqual({ min: 1000, max: 300_000, factor: 2, resetAfter: 60_000, jitter: 0.2 });
  });

  it.each<{ name: string; specs: Record<string, TaskSpec> }>([
    { name: 'bad name', specs: { 'a b': base } },
    { name: 'negative instances', specs: { a: { ...base, instances: -1 } } },
    { name: 'no cpus', specs: { a: { ...base, resources: { cpus: 0, mem: 1 } } } },
    {
      name: 'more mappings than ports',
      specs: {
        a: { ...base, portMappings: [{ containerPort: 1 }, { containerPort: 2 }, { containerPort: 3 }] },
      },
    },
    { name: 'poller port out of range', specs: { a: { ...base, healthPoller: { portIndex: 2 } } } },
  ])('rejects $name', ({ specs }) => {
    expect(() => resolveSpecs(specs)).toThrow(TaskSpecError);
  });

  it('backs off exponentially up to the cap, with bounded jitter', () => {
    const b = { min: 100, max: 1000, factor: 2, resetAfter: 0, jitter: 0 };
    expect([1, 2, 3, 4, 5, 9].map((n) => restartDelay(b, n, () => 0.5))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    const j = { ...b, jitter: 0.5 };
    expect(restartDelay(j, 1, () => 0)).toBe(100);
    expect(restartDelay(j, 1, () => 0.999)).toBe(50);
  });
});

describe('TaskInfo of a launch', () => {
  const input = (spec: TaskSpec) => ({
    spec: one(spec),
    serial: 2,
    taskId: 'web-2.abc',
    agentId: 'S1',
    hostname: 'agent1',
    ports: [31000, 31001],
    resources: [{ name: 'cpus', type: 'SCALAR' as const, scalar: { value: 0.1 } }],
    executorResources: undefined,
    frameworkId: 'F',
  });

  it('injects PORTn, HOST and the serial, replacing user variables of the same name', () => {
    const built = buildTask(input(base));
    expect(built.operation).toBe('LAUNCH');
    expect(built.task.name).toBe('web-2');
    expect(built.task.command?.environment?.variables).toEqual([
      { name: 'A', value: '1' },
      { name: 'PORT0', value: '31000' },
      { name: 'PORT1', value: '31001' },
      { name: 'HOST', value: 'agent1' },
      { name: 'TASK_WEB_SERIAL_NUMBER', value: '2' },
    ]);
    expect(base.command.environment?.variables).toHaveLength(2);
  });

  it('maps container ports to the chosen host ports and points the health check at them', () => {
    const built = buildTask(
      input({
        ...base,
        container: { type: 'DOCKER', docker: { image: 'nginx', network: 'BRIDGE' } },
        portMappings: [{ containerPort: 80 }, { containerPort: 53, protocol: 'udp' }],
        healthCheck: { type: 'HTTP', http: { port: 0, path: '/' } },
        healthCheckPortIndex: 0,
        labels: { team: 'infra' },
        killGracePeriodSeconds: 1.5,
      }),
    );
    expect(built.task.container?.docker?.port_mappings).toEqual([
      { host_port: 31000, container_port: 80, protocol: 'tcp' },
      { host_port: 31001, container_port: 53, protocol: 'udp' },
    ]);
    expect(built.task.health_check?.http?.port).toBe(80);
    expect(built.task.labels).toEqual({ labels: [{ key: 'team', value: 'infra' }] });
    expect(built.task.kill_policy).toEqual({ grace_period: { nanoseconds: 1_500_000_000 } });
  });

  it('uses the host port for health checks under host networking', () => {
    const built = buildTask(
      input({ ...base, healthCheck: { type: 'TCP', tcp: { port: 0 } }, healthCheckPortIndex: 1 }),
    );
    expect(built.task.health_check?.tcp?.port).toBe(31001);
  });

  it('launches DEFAULT-executor specs as a task group and CUSTOM ones under their executor', () => {
    const group = buildTask({
      ...input({ ...base, executor: { type: 'DEFAULT', resources: { cpus: 0.01, mem: 32, disk: 10 } } }),
      executorResources: [],
    });
    expect(group.operation).toBe('LAUNCH_GROUP');
    expect(group.executor).toMatchObject({
      type: 'DEFAULT',
      executor_id: { value: 'web-2.abc.executor' },
      framework_id: { value: 'F' },
    });
    expect(group.task.executor).toBeUndefined();
    const custom = buildTask(
      input({ ...base, executor: { type: 'CUSTOM', resources: {}, command: { value: './exec' } } }),
    );
    expect(custom.operation).toBe('LAUNCH');
    expect(custom.task.command).toBeUndefined();
    expect(custom.task.executor?.command?.value).toBe('./exec');
    expect(custom.task.executor?.command?.environment?.variables?.map((v) => v.name)).toContain('PORT0');
  });
});
