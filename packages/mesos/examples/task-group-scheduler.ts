/**
 * A task-group scheduler on the scheduler client and the offer tools of @galley/mesos (no task
 * manager): it launches one pod — an "app" and a "sidecar" task sharing one default executor —
 * with a single LAUNCH_GROUP, waits until both tasks finished, tears the framework down and exits 0.
 *
 *   npx tsx packages/mesos/examples/task-group-scheduler.ts
 *
 * It shows the lower layer the task manager is made of: the ordered handlers of
 * `createScheduler`, `OfferBook` (offers grouped by agent and role), `AcceptPlan` (fitting the
 * tasks and their executor into one agent's offers, ports included, and building the ACCEPT), and
 * `OfferHygiene`'s refuse filter for the offers it does not use, then SUPPRESS once launched.
 *
 * With MESOS_MASTER unset, it starts a fake Mesos master (@galley/mesos/testing) that runs the
 * tasks as real local processes. With MESOS_MASTER=host:5050 it uses that cluster (as user
 * MESOS_USER, default the current user).
 */
import { userInfo } from 'node:os';
import {
  AcceptPlan,
  createScheduler,
  DEFAULT_REFUSE_SECONDS,
  isTerminalTaskState,
  OfferBook,
  type ExecutorInfo,
  type OfferGroup,
  type ResourceNeeds,
  type TaskInfo,
} from '@galley/mesos';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';

/** The executor's own share (Mesos' minimum for a LAUNCH_GROUP executor: 0.01 cpus, 32 MB, some disk). */
const EXECUTOR_NEEDS: ResourceNeeds = { cpus: 0.1, mem: 32, disk: 32 };

const POD = [
  {
    name: 'app',
    needs: { cpus: 0.2, mem: 64, ports: 1 },
    command: 'echo "app: serving on port $PORT0"; sleep 1',
  },
  { name: 'sidecar', needs: { cpus: 0.1, mem: 32 }, command: 'echo "sidecar: watching the app"; sleep 1' },
] as const;

/** Tries to fit the whole pod into one agent's offers; returns the plan, or undefined. */
function planPod(group: OfferGroup, frameworkId: string, podId: string): AcceptPlan | undefined {
  const plan = new AcceptPlan(group.offers);
  const executorId = `${podId}.executor`;
  let executorResources = undefined as ExecutorInfo['resources'];
  const tasks: TaskInfo[] = [];
  for (const member of POD) {
    const fit = plan.fit(member.needs, { executorId, needs: EXECUTOR_NEEDS });
    if (!fit.ok) {
      console.log(`agent ${group.agentId} cannot take the pod: ${fit.reason}`);
      return undefined;
    }
    executorResources ??= fit.executorResources;
    const variables = fit.ports.map((port, i) => ({ name: `PORT${i}`, value: String(port) }));
    tasks.push({
      name: member.name,
      task_id: { value: `${podId}.${member.name}` },
      agent_id: { value: group.agentId },
      resources: fit.resources,
      command: { value: member.command, environment: { variables } },
    });
  }
  const executor: ExecutorInfo = {
    type: 'DEFAULT',
    executor_id: { value: executorId },
    framework_id: { value: frameworkId },
    resources: executorResources ?? [],
  };
  plan.launchGroup(executor, tasks);
  return plan;
}

async function main(): Promise<void> {
  let fake: FakeMesos | undefined;
  let master = process.env.MESOS_MASTER;
  if (master === undefined || master === '') {
    fake = await startFakeMesos({ agents: 2, execution: 'processes', allocationIntervalMs: 100 });
    master = fake.leaderUrl;
    console.log(`started a fake Mesos master at ${master}`);
  }

  const podId = `pod-${Date.now().toString(36)}`;
  const book = new OfferBook();
  const states = new Map<string, string>();
  let launched = false;
  let suppressed = false;
  let finish: (error?: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = (error) => (error === undefined ? resolve() : reject(error));
  });

  const scheduler = createScheduler({
    master,
    framework: {
      user: process.env.MESOS_USER ?? userInfo().username,
      name: 'galley-example-task-group-scheduler',
    },
    handlers: {
      OFFERS: async (event, { scheduler: s }) => {
        book.add(event.offers.offers ?? []);
        const calls: Promise<void>[] = [];
        for (const group of book.takeGroups()) {
          const plan = launched ? undefined : planPod(group, s.id ?? '', podId);
          if (plan === undefined) {
            calls.push(
              s.decline(
                group.offers.map((o) => o.id),
                { refuse_seconds: DEFAULT_REFUSE_SECONDS },
              ),
            );
            continue;
          }
          launched = true;
          const accept = plan.toAccept(DEFAULT_REFUSE_SECONDS);
          console.log(`launching ${podId} (app + sidecar) on agent ${plan.agentId}`);
          calls.push(s.accept(accept.offer_ids, accept.operations, accept.filters));
        }
        if (launched && !suppressed) {
          suppressed = true;
          calls.push(s.suppress());
        }
        await Promise.all(calls);
      },
      RESCIND: (event) => {
        book.rescind(event.rescind.offer_id.value);
      },
      UPDATE: (event) => {
        const { task_id, state, message } = event.update.status;
        if (!task_id.value.startsWith(podId) || states.get(task_id.value) === state) return;
        states.set(task_id.value, state);
        console.log(`${task_id.value} is ${state}${message ? ` (${message})` : ''}`);
        if (isTerminalTaskState(state) && state !== 'TASK_FINISHED') {
          finish(new Error(`${task_id.value} ended in ${state}`));
        }
        const finished = POD.filter((m) => states.get(`${podId}.${m.name}`) === 'TASK_FINISHED');
        if (finished.length === POD.length) finish();
      },
    },
  });
  scheduler.on('disconnected', () => book.clear());

  scheduler.start();
  const timer = setTimeout(() => finish(new Error('the pod did not finish within 60 s')), 60_000);
  try {
    await done;
    console.log('the pod finished: app and sidecar exited 0');
    await scheduler.teardown();
  } finally {
    clearTimeout(timer);
    await scheduler.stop();
    await fake?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
