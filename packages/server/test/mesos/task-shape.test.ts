import { place } from '@galley/core';
import { AcceptPlan, type Offer } from '@galley/mesos';
import { describe, expect, it } from 'vitest';
import type { LaunchSpec } from '../../src/backends/backend.js';
import { NodeCache, nodesOf, parseNodeId } from '../../src/backends/mesos/nodes.js';
import { resolveMesosSettings, type MesosFlatSettings } from '../../src/config/mesos-settings.js';
import { needsOf, taskInfoOf, type TaskShape } from '../../src/backends/mesos/task-info.js';

// Offers as placement nodes, and launches as TaskInfos: the pure halves of the Mesos backend.

/** An offer as the recorded master writes it (MULTI_ROLE, no refinement). */
function offer(
  id: string,
  agent: string,
  role: string,
  cpus: number,
  mem: number,
  ports: [number, number],
  zone: string,
): Offer {
  const meta = { role: '*', allocation_info: { role } };
  return {
    id: { value: id },
    framework_id: { value: 'fw' },
    agent_id: { value: agent },
    hostname: `${agent}.example`,
    url: {
      scheme: 'http',
      address: { hostname: `${agent}.example`, ip: '10.0.0.1', port: 5051 },
      path: '/slave(1)',
    },
    resources: [
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: ports[0], end: ports[1] }] }, ...meta },
      { name: 'cpus', type: 'SCALAR', scalar: { value: cpus }, ...meta },
      { name: 'mem', type: 'SCALAR', scalar: { value: mem }, ...meta },
      { name: 'disk', type: 'SCALAR', scalar: { value: 10000 }, ...meta },
    ],
    attributes: [{ name: 'zone', type: 'TEXT', text: { value: zone } }],
    allocation_info: { role },
  } as Offer;
}

const spec = (over: Partial<LaunchSpec> = {}): LaunchSpec => ({
  attemptId: 'run-1.2',
  runId: 'run-1',
  seq: 2,
  nodeId: 'S1 batch',
  image: 'python:3.12',
  command: 'python -m http.server $PORT0',
  env: [{ name: 'GALLEY_RUN_ID', value: 'run-1' }],
  cpus: 0.5,
  memMb: 256,
  gpus: 0,
  name: 'web',
  hostPorts: [31007],
  containerPorts: [8000],
  ...over,
});

const shape = (over: Partial<TaskShape> = {}): TaskShape => ({
  containerizer: 'mesos',
  network: 'HOST',
  cniNetwork: 'mesos-bridge',
  killGraceMs: 10_000,
  ...over,
});

describe('offers as placement nodes', () => {
  it('makes one node per agent and role, with free resources, port ranges, attributes and role', () => {
    const nodes = nodesOf([
      offer('o1', 'S1', 'batch', 2, 4096, [31000, 31099], 'a'),
      offer('o2', 'S1', 'batch', 1, 1024, [31100, 31199], 'a'),
      offer('o3', 'S1', 'gpu', 4, 8192, [32000, 32000], 'a'),
      offer('o4', 'S2', 'batch', 0.5, 512, [33000, 33010], 'b'),
    ]);
    expect(nodes.map((n) => n.id)).toEqual(['S1 batch', 'S1 gpu', 'S2 batch']);
    expect(nodes[0]).toMatchObject({
      hostname: 'S1.example',
      role: 'batch',
      attributes: { zone: 'a', hostname: 'S1.example', 'galley.agent': 'S1' },
      free: {
        cpus: 3,
        memMb: 5120,
        diskMb: 20000,
        gpus: 0,
        // Adjacent ranges of two offers join.
        portRanges: [[31000, 31199]],
      },
    });
    expect(parseNodeId('S1 gpu')).toEqual({ agentId: 'S1', role: 'gpu' });
  });

  it('lets core place() fit, pack, honour roles and constraints, and explain what does not fit', () => {
    const nodes = nodesOf([
      offer('o1', 'S1', 'batch', 2, 4096, [31000, 31099], 'a'),
      offer('o2', 'S2', 'batch', 2, 4096, [32000, 32099], 'b'),
    ]);
    const demand = { cpus: 0.5, memMb: 256, diskMb: 0, gpus: 0, ports: 1, role: 'batch', queuedAt: 1 };
    const result = place(
      [
        { ...demand, id: 'r1', constraints: [{ attribute: 'zone', op: 'eq', value: 'b' }] },
        { ...demand, id: 'r2' },
        { ...demand, id: 'r3' },
        { ...demand, id: 'big', cpus: 64 },
      ],
      nodes,
    );
    const where = Object.fromEntries(result.placements.map((p) => [p.demandId, p.nodeId]));
    expect(where['r1']).toBe('S2 batch');
    // Best fit packs the others onto the same agent (one ACCEPT).
    expect(where['r2']).toBe(where['r3']);
    expect(result.unplaced).toEqual([
      { demandId: 'big', reason: 'needs 64 cpus; the largest free on any node with role "batch" is 2' },
    ]);
  });
});

describe('launches as TaskInfos', () => {
  it('cuts the placed ports and resources from the offers and builds a command task with env, ports, kill policy and labels', () => {
    const plan = new AcceptPlan([offer('o1', 'S1', 'batch', 2, 4096, [31000, 31099], 'a')]);
    const fit = plan.fit(needsOf(spec({ hostPorts: [31007] })));
    if (!fit.ok) throw new Error(fit.reason);
    const task = taskInfoOf(spec(), 'S1', fit.resources, shape());
    expect(task.task_id).toEqual({ value: 'run-1.2' });
    expect(task.name).toBe('web.2');
    expect(task.resources).toEqual(
      expect.arrayContaining([
        {
          name: 'cpus',
          type: 'SCALAR',
          scalar: { value: 0.5 },
          role: '*',
          allocation_info: { role: 'batch' },
        },
        {
          name: 'ports',
          type: 'RANGES',
          ranges: { range: [{ begin: 31007, end: 31007 }] },
          role: '*',
          allocation_info: { role: 'batch' },
        },
      ]),
    );
    expect(task.command).toEqual({
      shell: true,
      value: 'python -m http.server $PORT0',
      environment: {
        variables: [
          { name: 'GALLEY_RUN_ID', value: 'run-1' },
          { name: 'PORT0', value: '31007' },
          { name: 'PORTS', value: '31007' },
          { name: 'PORT_8000', value: '31007' },
        ],
      },
    });
    expect(task.kill_policy).toEqual({ grace_period: { nanoseconds: 10_000_000_000 } });
    expect(task.container).toEqual({
      type: 'MESOS',
      mesos: { image: { type: 'DOCKER', docker: { name: 'python:3.12' } } },
    });
    expect(task.labels?.labels).toContainEqual({ key: 'galley.run_id', value: 'run-1' });
  });

  it('maps host ports to container ports under BRIDGE, for both containerizers, and drops the container for plain commands', () => {
    const docker = taskInfoOf(spec(), 'S1', [], shape({ containerizer: 'docker', network: 'BRIDGE' }));
    expect(docker.container).toEqual({
      type: 'DOCKER',
      docker: {
        image: 'python:3.12',
        network: 'BRIDGE',
        port_mappings: [{ host_port: 31007, container_port: 8000, protocol: 'tcp' }],
      },
    });
    const mesos = taskInfoOf(spec(), 'S1', [], shape({ network: 'BRIDGE' }));
    expect(mesos.container?.network_infos).toEqual([
      { name: 'mesos-bridge', port_mappings: [{ host_port: 31007, container_port: 8000, protocol: 'tcp' }] },
    ]);
    expect(taskInfoOf(spec(), 'S1', [], shape({ containerizer: 'none' })).container).toBeUndefined();
    expect(taskInfoOf(spec({ image: '' }), 'S1', [], shape()).container).toBeUndefined();
  });

  it('turns a health check into a Mesos one on the right port (host port on HOST, container port on BRIDGE)', () => {
    const check = {
      protocol: 'HTTP' as const,
      path: '/health',
      intervalSeconds: 5,
      maxConsecutiveFailures: 2,
    };
    const host = taskInfoOf(spec({ healthCheck: check }), 'S1', [], shape());
    expect(host.health_check).toEqual({
      type: 'HTTP',
      http: { port: 31007, path: '/health', scheme: 'http' },
      interval_seconds: 5,
      consecutive_failures: 2,
    });
    const bridge = taskInfoOf(
      spec({ healthCheck: { protocol: 'TCP' } }),
      'S1',
      [],
      shape({ network: 'BRIDGE' }),
    );
    expect(bridge.health_check).toEqual({ type: 'TCP', tcp: { port: 8000 } });
    const command = taskInfoOf(
      spec({ healthCheck: { protocol: 'COMMAND', command: 'test -f ok' } }),
      'S1',
      [],
      shape(),
    );
    expect(command.health_check).toEqual({ type: 'COMMAND', command: { shell: true, value: 'test -f ok' } });
  });
});

describe('Mesos settings', () => {
  const flat = (over: Partial<MesosFlatSettings> = {}): MesosFlatSettings => ({
    backend: 'local',
    cluster: 'local',
    mesosMaster: null,
    mesosCluster: null,
    mesosFrameworkName: 'galley',
    mesosUser: 'svc',
    mesosRoles: '*',
    mesosPrincipal: null,
    mesosSecret: null,
    mesosFailoverTimeoutS: 604800,
    mesosRefuseSeconds: 120,
    mesosOfferHoldMs: 1000,
    mesosContainerizer: 'mesos',
    mesosExecutor: 'command',
    mesosExecutorCommand: 'galley-executor',
    mesosExecutorUri: null,
    mesosNetwork: 'HOST',
    mesosCniNetwork: 'mesos-bridge',
    mesosUnreachableTimeoutMs: 300000,
    mesosReconcileIntervalMs: 900000,
    mesosReconcileDelayMs: 5000,
    mesosLaunchTimeoutMs: 60000,
    mesosReviveIntervalMs: 5000,
    ...over,
  });

  it('names the default Mesos cluster `mesos` and reads repeated clusters and roles', () => {
    const problems: string[] = [];
    const { settings, defaultCluster } = resolveMesosSettings(
      flat({
        backend: 'mesos',
        mesosMaster: 'zk://z1:2181,z2:2181/mesos',
        mesosCluster: 'east=m1:5050,m2:5050;west=leader.mesos:5050',
        mesosRoles: 'batch, gpu',
      }),
      problems,
    );
    expect(problems).toEqual([]);
    expect(defaultCluster).toBe('mesos');
    expect(settings.clusters).toEqual([
      { name: 'mesos', master: 'zk://z1:2181,z2:2181/mesos' },
      { name: 'east', master: 'm1:5050,m2:5050' },
      { name: 'west', master: 'leader.mesos:5050' },
    ]);
    expect(settings.roles).toEqual(['batch', 'gpu']);
  });

  it('names every problem: no master, bad entries, clashing names, bad containerizer and network', () => {
    const problems: string[] = [];
    resolveMesosSettings(
      flat({
        backend: 'mesos',
        mesosCluster: 'nameless;local=m:5050',
        mesosContainerizer: 'rkt',
        mesosNetwork: 'overlay',
        mesosSecret: 's3cret',
      }),
      problems,
    );
    expect(problems.join('\n')).toMatch(/needs --mesos-master/);
    expect(problems.join('\n')).toMatch(/expected name=master.*"nameless"/);
    expect(problems.join('\n')).toMatch(/"local" is used twice/);
    expect(problems.join('\n')).toMatch(/mesosContainerizer/);
    expect(problems.join('\n')).toMatch(/mesosNetwork/);
    expect(problems.join('\n')).toMatch(/needs a principal/);
    expect(problems.join('\n')).not.toContain('s3cret');
  });
});

describe('mesos: held offers as nodes, made again only where they changed', () => {
  it('answers what nodesOf answers, reusing an agent’s node until its offers or its images attribute change', () => {
    const cache = new NodeCache();
    const a1 = offer('o1', 'S1', 'batch', 2, 4096, [31000, 31099], 'a');
    const b1 = offer('o2', 'S2', 'batch', 4, 8192, [31000, 31099], 'b');
    let images = 'none';
    const attribute = () => images;
    const first = cache.nodesOf([a1, b1], attribute);
    expect(first).toEqual(nodesOf([a1, b1], attribute));
    const again = cache.nodesOf([a1, b1], attribute);
    expect(again[0]).toBe(first[0]);
    expect(again[1]).toBe(first[1]);
    // S1's offer was used and a smaller one came: S1's node is made again, S2's kept.
    const a2 = offer('o3', 'S1', 'batch', 1, 1024, [31000, 31009], 'a');
    const next = cache.nodesOf([b1, a2], attribute);
    expect(next).toEqual(nodesOf([b1, a2], attribute));
    expect(next[0]).toBe(first[1]);
    expect(next.find((n) => n.id === first[0]!.id)?.free.cpus).toBe(1);
    // A second offer of S2 joins its node; the agent learnt to run images.
    const b2 = offer('o4', 'S2', 'batch', 1, 512, [32000, 32009], 'b');
    images = 'mesos';
    expect(cache.nodesOf([b1, a2, b2], attribute)).toEqual(nodesOf([b1, a2, b2], attribute));
  });
});
