import type { DefinitionInput, NewRun } from '../../src/model/records.js';

/** A definition input with test defaults. */
export function definitionInput(over: Partial<DefinitionInput> = {}): DefinitionInput {
  return {
    alias: 'hello',
    groupName: 'examples',
    image: 'ubuntu:latest',
    command: 'echo hi',
    memory: 512,
    cpu: 250,
    gpu: 0,
    env: [{ name: 'USERNAME', value: 'someone' }],
    ports: [],
    tags: [],
    targetCluster: null,
    ownerId: null,
    ...over,
  };
}

/** A QUEUED run with test defaults. */
export function newRun(runId: string, over: Partial<NewRun> = {}, queuedAt = 1_000): NewRun {
  return {
    runId,
    definitionId: 'def-1',
    alias: 'hello',
    groupName: 'examples',
    image: 'ubuntu:latest',
    command: 'echo hi',
    cluster: 'local',
    engine: 'local',
    ownerId: 'alice',
    env: [{ name: 'USERNAME', value: 'someone' }],
    memory: 512,
    cpu: 250,
    gpu: 0,
    description: null,
    idempotenceKey: null,
    activeDeadlineSeconds: null,
    pipelineId: null,
    state: {
      status: 'QUEUED',
      attemptCount: 0,
      attemptId: null,
      attemptIds: [],
      exitCode: null,
      exitReason: null,
      queuedAt,
      startedAt: null,
      finishedAt: null,
      stopRequestedAt: null,
      retryAt: null,
      queuedReason: null,
    },
    host: null,
    runExceptions: null,
    maxMemoryUsed: null,
    maxCpuUsed: null,
    ...over,
  };
}
