import { startFakeMesos, type FakeMesos, type FakeMesosOptions } from '@galley/mesos/testing';
import type { ExecutorConfig } from '@galley/mesos';
import {
  commandTask,
  frameworkInfo,
  launch,
  subscribeScheduler,
  type TestScheduler,
} from '../../testing/support/test-scheduler.js';

/**
 * A fake cluster (processes mode) where a scheduler launched a task on a custom executor whose
 * own process (`command`) is a placeholder: the test's in-process executor client subscribes in
 * its place, with the configuration the agent gave that executor.
 */
export interface ExecutorHarness {
  readonly fake: FakeMesos;
  readonly scheduler: TestScheduler;
  readonly agentId: string;
  readonly config: ExecutorConfig;
  /** The task launched on the executor. */
  readonly taskId: string;
}

export async function startExecutorHarness(
  options: {
    checkpoint?: boolean;
    command?: string;
    taskExtra?: Record<string, unknown>;
    fake?: FakeMesosOptions;
    config?: Partial<ExecutorConfig>;
  } = {},
): Promise<ExecutorHarness> {
  const fake = await startFakeMesos({ execution: 'processes', allocationIntervalMs: 50, ...options.fake });
  const checkpoint = options.checkpoint ?? true;
  const scheduler = await subscribeScheduler(fake.leaderUrl, frameworkInfo({ checkpoint }));
  const offer = (await scheduler.nextOffers())[0] as Record<string, unknown>;
  const agentId = (offer.agent_id as { value: string }).value;
  const executor = {
    executor_id: { value: 'test-executor' },
    type: 'CUSTOM',
    command: { value: options.command ?? 'sleep 600' },
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
    ],
  };
  const task = { ...commandTask(offer, 'task-1', ''), command: undefined, executor, ...options.taskExtra };
  await scheduler.call('ACCEPT', launch([offer], [task], { refuse_seconds: 0 }));
  const sandbox = await fake.waitFor((s) => s.tasks.find((t) => t.taskId === 'task-1')?.sandbox, {
    what: 'the task',
  });
  const config: ExecutorConfig = {
    frameworkId: scheduler.frameworkId,
    executorId: 'test-executor',
    agentUrl: new URL(`${fake.agentUrl(agentId)}/api/v1/executor`),
    directory: sandbox,
    sandbox,
    checkpoint,
    recoveryTimeoutMs: 10_000,
    subscriptionBackoffMaxMs: 100,
    shutdownGracePeriodMs: 1000,
    authToken: undefined,
    ...options.config,
  };
  return { fake, scheduler, agentId, config, taskId: 'task-1' };
}
