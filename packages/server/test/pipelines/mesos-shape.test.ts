import {
  DEFAULT_RESTART_BACKOFF,
  newInstanceState,
  parsePipelineSpec,
  type PipelineSpec,
  readySince,
} from '@galley/core';
import type { TaskStatus } from '@galley/mesos';
import { describe, expect, it } from 'vitest';
import type { GroupLaunch } from '../../src/backends/group-runner.js';
import { groupEventsOf } from '../../src/backends/mesos/groups-status.js';
import { commandOf, executorOf, processTaskInfo } from '../../src/backends/mesos/groups-task-info.js';
import type { TaskShape } from '../../src/backends/mesos/task-info.js';
import { applyGroupEvent } from '../../src/pipelines/instance-events.js';
import { newLaunch } from '../../src/pipelines/sync.js';
import type { InstanceRecord, PipelineRecord } from '../../src/model/pipeline-records.js';
import { seedPipeline } from './harness.js';

// The pure parts of pipelines on Mesos: what a task status means for an instance (including the
// agent's health verdict, which the fake master does not produce), and the LAUNCH_GROUP's shape
// under BRIDGE networking with an image (which the fake's `containerizer: none` runs skip).

function parse(raw: Record<string, unknown>): PipelineSpec {
  const parsed = parsePipelineSpec(raw);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.spec;
}

const LAUNCH = 'faust$1.1.ab12c';
const status = (state: string, extra: Partial<TaskStatus> = {}): TaskStatus =>
  ({ task_id: { value: `${LAUNCH}:parse` }, state, agent_id: { value: 'agent-1' }, ...extra }) as TaskStatus;

describe('Mesos task statuses as pipeline events', () => {
  const cases: { what: string; status: TaskStatus; events: unknown[] }[] = [
    {
      what: 'RUNNING',
      status: status('TASK_RUNNING'),
      events: [{ type: 'process-state', state: 'TASK_RUNNING', handle: { agentId: 'agent-1' } }],
    },
    {
      what: 'RUNNING, healthy',
      status: status('TASK_RUNNING', { healthy: true }),
      events: [
        { type: 'process-state', state: 'TASK_RUNNING' },
        { type: 'process-health', status: 'healthy' },
      ],
    },
    {
      what: 'RUNNING, unhealthy (a failed check, below the threshold)',
      status: status('TASK_RUNNING', { healthy: false }),
      events: [
        { type: 'process-state', state: 'TASK_RUNNING' },
        { type: 'process-health', status: 'failing' },
      ],
    },
    {
      what: 'KILLED by the executor for its health',
      status: status('TASK_KILLED', { healthy: false, reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' }),
      events: [
        { type: 'process-health', status: 'unhealthy' },
        { type: 'process-ended', end: { state: 'TASK_KILLED', hostFailure: false } },
      ],
    },
    {
      what: 'FAILED with an exit code',
      status: status('TASK_FAILED', { message: 'Command exited with status 3' }),
      events: [
        {
          type: 'process-ended',
          end: { state: 'TASK_FAILED', exitCode: 3, message: 'exited with code 3', hostFailure: false },
        },
      ],
    },
    {
      what: 'LOST',
      status: status('TASK_LOST', { reason: 'REASON_AGENT_REMOVED' }),
      events: [{ type: 'process-ended', end: { state: 'TASK_LOST', exitCode: null, hostFailure: true } }],
    },
    {
      what: 'UNKNOWN to the master (never launched)',
      status: status('TASK_UNKNOWN'),
      events: [{ type: 'process-ended', end: { state: 'TASK_LOST', hostFailure: true } }],
    },
    {
      what: 'ERROR (the master refused the task)',
      status: status('TASK_ERROR', { message: 'Task uses no resources' }),
      events: [{ type: 'process-ended', end: { state: 'TASK_ERROR', hostFailure: false } }],
    },
    {
      what: 'UNREACHABLE',
      status: status('TASK_UNREACHABLE'),
      events: [{ type: 'process-state', state: 'TASK_UNREACHABLE' }],
    },
    { what: 'STAGING', status: status('TASK_STAGING'), events: [] },
  ];
  for (const c of cases) {
    it(`reads ${c.what}`, () => {
      const events = groupEventsOf(c.status, LAUNCH, 'parse', 5_000);
      expect(events).toHaveLength(c.events.length);
      events.forEach((e, i) =>
        expect(e).toMatchObject({
          launchId: LAUNCH,
          process: 'parse',
          at: 5_000,
          ...(c.events[i] as object),
        }),
      );
    });
  }

  it('makes a health-checked instance ready only once the agent says it is healthy, and not ready while it fails', () => {
    const spec = parse(seedPipeline('faust', { instances: 1 }));
    const p = { pipelineId: 'faust', uid: 'ab12c', instanceSeq: 1 } as PipelineRecord;
    const state = newInstanceState({ instanceId: 'faust.1', number: 1, version: 1 }, 1_000, true);
    let record: InstanceRecord = {
      pipelineId: 'faust',
      state,
      launch: newLaunch(p, state, spec, 1, 1, 1_000),
      updatedAt: 1_000,
    };
    const feed = (process: string, s: Partial<TaskStatus> & { state: string }, at: number) => {
      for (const e of groupEventsOf(
        { ...status(s.state), ...s, task_id: { value: `${LAUNCH}:${process}` } } as TaskStatus,
        LAUNCH,
        process,
        at,
      ))
        record = applyGroupEvent(record, e, spec, DEFAULT_RESTART_BACKOFF).record;
    };
    feed('parse', { state: 'TASK_RUNNING' }, 2_000);
    feed('sidecar', { state: 'TASK_RUNNING' }, 2_100);
    expect(record.state.phase).toBe('running');
    expect(readySince(record.state)).toBeNull();
    feed('parse', { state: 'TASK_RUNNING', healthy: true }, 3_000);
    expect(readySince(record.state)).toBe(3_000);
    feed('parse', { state: 'TASK_RUNNING', healthy: false }, 4_000);
    expect(readySince(record.state)).toBeNull();
    feed(
      'parse',
      { state: 'TASK_KILLED', healthy: false, reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' },
      5_000,
    );
    expect(record.state.unhealthyReason).toContain('process parse is unhealthy');
    expect(record.state.phase).toBe('failed');
  });
});

describe('a pipeline launch as a Mesos task group', () => {
  const shape: TaskShape = {
    containerizer: 'mesos',
    network: 'HOST',
    cniNetwork: 'mesos-bridge',
    killGraceMs: 0,
  };
  const spec = parse(
    seedPipeline('faust', {
      container: { image: 'robinhood/faust-example:1', network: 'BRIDGE' },
      processes: {
        parse: {
          id: 'parse',
          arguments: ['worker', '-l', 'info'],
          resources: { cpu: 0.29, mem: 512 },
          port_mappings: [{ host_port: 0, container_port: 6066, protocol: 'tcp' }],
          kill_grace_period: 30,
          health_check: { protocol: 'HTTP', path: '/health' },
        },
        tool: {
          id: 'tool',
          command: '/usr/bin/tool',
          arguments: ['--once'],
          resources: { cpu: 0.1, mem: 32 },
        },
      },
    }),
  );
  const launch: GroupLaunch = {
    launchId: LAUNCH,
    pipelineId: 'faust',
    instanceId: 'faust.1',
    spec,
    queuedAt: 0,
  };
  const placement = { agentId: 'agent-1', hostname: 'host-1', ports: { parse: [31005], tool: [] } };

  it("puts BRIDGE port mappings on the executor's network, which its tasks share", () => {
    const executor = executorOf(launch, 'fw-1', [], placement, shape);
    expect(executor).toMatchObject({
      type: 'DEFAULT',
      executor_id: { value: LAUNCH },
      framework_id: { value: 'fw-1' },
      container: {
        type: 'MESOS',
        network_infos: [
          {
            name: 'mesos-bridge',
            port_mappings: [{ host_port: 31005, container_port: 6066, protocol: 'tcp' }],
          },
        ],
      },
    });
  });

  it("runs the image's entrypoint with the arguments, in a MESOS container, checked on the container port", () => {
    const task = processTaskInfo(launch, spec.processes['parse']!, [], placement, shape);
    expect(task).toMatchObject({
      name: 'faust.1:parse',
      task_id: { value: `${LAUNCH}:parse` },
      agent_id: { value: 'agent-1' },
      command: { shell: false, arguments: ['worker', '-l', 'info'] },
      container: {
        type: 'MESOS',
        mesos: { image: { type: 'DOCKER', docker: { name: 'robinhood/faust-example:1' } } },
      },
      health_check: { type: 'HTTP', http: { port: 6066, path: '/health' } },
      kill_policy: { grace_period: { nanoseconds: 30_000_000_000 } },
    });
    expect(task.command?.value).toBeUndefined();
    expect(task.labels?.labels).toEqual(
      expect.arrayContaining([
        { key: 'galley.pipeline', value: 'faust' },
        { key: 'galley.instance', value: 'faust.1' },
        { key: 'galley.process', value: 'parse' },
      ]),
    );
  });

  it('runs a command with arguments as argv (argv[0] first), or a shell script with them as $1…', () => {
    expect(commandOf(spec.processes['tool']!, {})).toMatchObject({
      shell: false,
      value: '/usr/bin/tool',
      arguments: ['/usr/bin/tool', '--once'],
    });
    const script = commandOf({ ...spec.processes['tool']!, shell: true, command: 'echo "$1"' }, { A: 'b' });
    expect(script).toEqual({
      shell: true,
      value: 'set -- --once\necho "$1"',
      environment: { variables: [{ name: 'A', value: 'b' }] },
    });
  });
});
