/**
 * A command scheduler built on the declarative task manager of @galley/mesos/extras.
 *
 *   npx tsx packages/mesos/examples/command-scheduler.ts
 *
 * It keeps a small "hello" service of 3 instances running until each instance has finished its
 * work once: every instance is a shell command that prints where it runs (HOST, PORT0 and its
 * serial number, injected by the task manager) and exits 0. The task manager launches all three
 * from the offers (packed per agent), acknowledges their updates, and reports each instance as
 * removed when it finishes (TASK_FINISHED is not a restart state). Then the framework is torn
 * down and the process exits 0.
 *
 * With MESOS_MASTER unset, it starts a fake Mesos master (@galley/mesos/testing) that runs the
 * commands as real local processes. With MESOS_MASTER=host:5050 (or zk://…/mesos) it runs on
 * that cluster instead (as user MESOS_USER, default the current user).
 */
import { userInfo } from 'node:os';
import { createTaskManager } from '@galley/mesos/extras';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';

const INSTANCES = 3;

async function main(): Promise<void> {
  let fake: FakeMesos | undefined;
  let master = process.env.MESOS_MASTER;
  if (master === undefined || master === '') {
    fake = await startFakeMesos({ agents: 2, execution: 'processes', allocationIntervalMs: 100 });
    master = fake.leaderUrl;
    console.log(`started a fake Mesos master at ${master}`);
  }

  const manager = createTaskManager({
    master,
    framework: {
      user: process.env.MESOS_USER ?? userInfo().username,
      name: 'galley-example-command-scheduler',
    },
    tasks: {
      hello: {
        instances: INSTANCES,
        command: {
          value: 'echo "hello $TASK_HELLO_SERIAL_NUMBER from $HOST, port $PORT0"',
        },
        resources: { cpus: 0.1, mem: 32, ports: 1 },
        labels: { example: 'command-scheduler' },
      },
    },
  });

  const finished = new Set<string>();
  const allDone = new Promise<void>((resolve, reject) => {
    manager.on('task_launched', ({ task }) => {
      console.log(`${task.name} is running on ${task.hostname} with port ${task.ports[0]} (${task.taskId})`);
    });
    manager.on('task_removed', ({ task, state }) => {
      if (state !== 'TASK_FINISHED') {
        reject(new Error(`${task.name} ended in ${state}`));
        return;
      }
      finished.add(task.name);
      console.log(`${task.name} finished`);
      if (finished.size === INSTANCES) resolve();
    });
    manager.on('task_restarting', ({ task, state, delayMs }) => {
      console.log(`${task.name} ended in ${state}; restarting in ${delayMs} ms`);
    });
  });

  manager.start();
  try {
    await withTimeout(allDone, 60_000, 'the tasks did not finish within 60 s');
    console.log(`all ${INSTANCES} tasks finished`);
    await manager.scheduler.teardown();
  } finally {
    await manager.stop();
    await fake?.stop();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
