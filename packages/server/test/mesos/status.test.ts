import type { TaskStatus } from '@galley/mesos';
import { describe, expect, it } from 'vitest';
import { exitCodeOf, meaningOf } from '../../src/backends/mesos/status.js';

// Status update → what it means for the attempt (spec §4, and the recorded master: the exit
// code of a command task is only in `message`).

const status = (state: string, extra: Partial<TaskStatus> = {}): TaskStatus =>
  ({ task_id: { value: 't.1' }, state, ...extra }) as TaskStatus;

describe('status updates as run outcomes', () => {
  it.each([
    ['TASK_STAGING', {}, { kind: 'progress' }],
    ['TASK_STARTING', {}, { kind: 'progress' }],
    ['TASK_KILLING', {}, { kind: 'progress' }],
    ['TASK_RUNNING', {}, { kind: 'running' }],
    ['TASK_RUNNING', { reason: 'REASON_AGENT_REREGISTERED' }, { kind: 'running' }],
    ['TASK_UNREACHABLE', { reason: 'REASON_AGENT_REMOVED' }, { kind: 'unreachable' }],
    [
      'TASK_FINISHED',
      { message: 'Command exited with status 0' },
      { kind: 'ended', outcome: { kind: 'exited', exitCode: 0 } },
    ],
    [
      'TASK_FAILED',
      { message: 'Command exited with status 3' },
      { kind: 'ended', outcome: { kind: 'exited', exitCode: 3 } },
    ],
    [
      'TASK_FAILED',
      { message: 'Container exited with status 137' },
      { kind: 'ended', outcome: { kind: 'exited', exitCode: 137 } },
    ],
    [
      'TASK_FAILED',
      { message: 'Command terminated with signal Segmentation fault' },
      { kind: 'ended', outcome: { kind: 'killed', message: 'signal Segmentation fault' } },
    ],
    [
      'TASK_KILLED',
      { message: 'Command terminated with signal Terminated' },
      { kind: 'ended', outcome: { kind: 'killed', message: 'signal Terminated' } },
    ],
    [
      'TASK_FAILED',
      { reason: 'REASON_CONTAINER_LIMITATION_MEMORY', message: 'Memory limit exceeded' },
      { kind: 'ended', outcome: { kind: 'killed', message: 'OOM: memory limit exceeded' } },
    ],
    [
      'TASK_FAILED',
      { reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: 'Failed to pull image' },
      {
        kind: 'ended',
        outcome: {
          kind: 'host-failure',
          reason: 'configuration failure',
          message: 'container launch failed: Failed to pull image',
        },
      },
    ],
    [
      'TASK_ERROR',
      { reason: 'REASON_TASK_INVALID', message: 'Task uses more resources than offered' },
      {
        kind: 'ended',
        outcome: { kind: 'rejected', message: 'REASON_TASK_INVALID: Task uses more resources than offered' },
      },
    ],
    [
      'TASK_DROPPED',
      {
        reason: 'REASON_INVALID_OFFERS',
        message: 'Task launched with invalid offers: Offer X is no longer valid',
      },
      {
        kind: 'ended',
        outcome: {
          kind: 'host-failure',
          reason: 'launch failed: the offers were no longer valid',
          message: 'REASON_INVALID_OFFERS: Task launched with invalid offers: Offer X is no longer valid',
        },
      },
    ],
    ['TASK_LOST', {}, { kind: 'ended', outcome: { kind: 'host-failure', reason: 'task lost' } }],
    [
      'TASK_GONE',
      { reason: 'REASON_RECONCILIATION', message: 'Reconciliation: Task is unknown to the agent' },
      {
        kind: 'ended',
        outcome: {
          kind: 'host-failure',
          reason: 'task gone',
          message: 'REASON_RECONCILIATION: Reconciliation: Task is unknown to the agent',
        },
      },
    ],
    [
      'TASK_GONE_BY_OPERATOR',
      { reason: 'REASON_AGENT_REMOVED_BY_OPERATOR' },
      {
        kind: 'ended',
        outcome: {
          kind: 'host-failure',
          reason: 'agent marked gone by the operator',
          message: 'REASON_AGENT_REMOVED_BY_OPERATOR',
        },
      },
    ],
    [
      'TASK_UNKNOWN',
      { message: 'Reconciliation: Task is unknown' },
      {
        kind: 'ended',
        outcome: {
          kind: 'host-failure',
          reason: 'task unknown to the master',
          message: 'Reconciliation: Task is unknown',
        },
      },
    ],
    [
      'TASK_KILLED',
      { reason: 'REASON_AGENT_DRAINING' },
      {
        kind: 'ended',
        outcome: { kind: 'host-failure', reason: 'agent draining', message: 'REASON_AGENT_DRAINING' },
      },
    ],
  ])('%s %j', (state, extra, meaning) => {
    expect(meaningOf(status(state, extra as Partial<TaskStatus>))).toEqual(meaning);
  });

  it('reads exit codes only from the exit message', () => {
    expect(exitCodeOf('Command exited with status 0')).toBe(0);
    expect(exitCodeOf('Command exited with status 255')).toBe(255);
    expect(exitCodeOf('Reconciliation: Latest task state')).toBeNull();
    expect(exitCodeOf(undefined)).toBeNull();
  });
});
