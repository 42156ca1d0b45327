/**
 * The frameworks bench:sdk races (see sdk.ts), each run in a child process that sdk.ts forks with
 * `--child <contender> <master url>`: Galley's task manager (`galley`, `command`, and `base`: the
 * task manager of the BENCH_SDK_BASE build), the npm package `mesos-framework` (`peer`), and the
 * SDK's scheduler with one shared galley-executor per agent (`shared`). Each says `starting` just
 * before it subscribes and, asked for a `report`, answers the CPU seconds it used since.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Offer, TaskInfo } from '@galley/mesos';
import type * as Extras from '@galley/mesos/extras';

/** Tasks each contender runs (BENCH_SDK_TASKS). */
export const TASKS = Number(process.env['BENCH_SDK_TASKS'] ?? 10_000);
/** What each task runs (a timer in the fake's simulate mode). */
export const COMMAND = 'sleep 3600';
/** A built @galley/mesos package (e.g. /tmp/galley-base/packages/mesos): its fake and task manager race as `base` (BENCH_SDK_BASE). */
export const BASE = process.env['BENCH_SDK_BASE'];

function reportCpuOnRequest(cpuStart: NodeJS.CpuUsage): void {
  process.on('message', (m: { type?: string }) => {
    if (m.type !== 'report') return;
    const used = process.cpuUsage(cpuStart);
    process.send?.({ type: 'cpu', seconds: (used.user + used.system) / 1e6 }, () => process.exit(0));
  });
}

async function galleyChild(master: string, base?: string): Promise<void> {
  const { createTaskManager } = (
    base !== undefined
      ? await import(join(base, 'dist/extras/index.js'))
      : await import('@galley/mesos/extras')
  ) as typeof Extras;
  const manager = createTaskManager({
    master,
    framework: { user: 'root', name: 'bench-galley' },
    tasks: {
      sleeper: { instances: TASKS, command: { value: COMMAND }, resources: { cpus: 0.1, mem: 32, ports: 1 } },
    },
  });
  process.send?.({ type: 'starting' });
  reportCpuOnRequest(process.cpuUsage());
  manager.start();
}

/** The subset of mesos-framework's Scheduler this bench uses (the package ships no types). */
interface PeerScheduler {
  on(event: string, listener: (...args: unknown[]) => void): void;
  subscribe(): void;
}

async function peerChild(master: string): Promise<void> {
  const url = new URL(master);
  const require = createRequire(import.meta.url);
  const peer = require('mesos-framework') as {
    Scheduler: new (options: object) => PeerScheduler;
    Mesos: { getMesos(): { CommandInfo: new (...fields: unknown[]) => object } };
  };
  const { Scheduler } = peer;
  const mesos = peer.Mesos.getMesos();
  const logs = mkdtempSync(join(tmpdir(), 'bench-peer-'));
  process.on('exit', () => rmSync(logs, { recursive: true, force: true }));
  const scheduler = new Scheduler({
    masterUrl: url.hostname,
    port: Number(url.port),
    frameworkName: 'bench-peer',
    // Its default (10 s) is shorter than Mesos' 15 s heartbeat: an idle but healthy stream would
    // be taken for dead, and its recovery path exits the process.
    masterConnectionTimeout: 60,
    logging: { path: logs, fileName: 'peer.log', level: 'error' },
    tasks: {
      sleeper: {
        instances: TASKS,
        // As in its examples/commandScheduler.js: uris, environment, shell, value, arguments, user.
        commandInfo: new mesos.CommandInfo(null, null, true, COMMAND, null, null),
        resources: { cpus: 0.1, mem: 32, ports: 1, disk: 0 },
      },
    },
  });
  // Its errors (e.g. "Other linebreak count found" when RecordIO records share a chunk) are
  // events; without a listener EventEmitter would throw them.
  scheduler.on('error', (e: unknown) => {
    if (process.env['BENCH_SDK_DEBUG'])
      console.error(
        'peer error:',
        (e as { stack?: string }).stack?.slice(0, 400),
        JSON.stringify(e).slice(-200),
      );
  });
  scheduler.on('ready', () => {
    process.send?.({ type: 'starting' });
    reportCpuOnRequest(process.cpuUsage());
    scheduler.subscribe();
  });
}

/**
 * Galley through one shared galley-executor per agent: the SDK's scheduler and AcceptPlan, every
 * task of an agent launched with the same ExecutorInfo (its resources counted once, with its first
 * task), the command in `TaskInfo.data` as galley-executor reads it. Offers of agents with nothing
 * more to launch are declined for 120 s.
 */
async function sharedChild(master: string): Promise<void> {
  const { AcceptPlan, createScheduler } = await import('@galley/mesos');
  let next = 0;
  const data = Buffer.from(JSON.stringify({ shell: true, value: COMMAND })).toString('base64');
  const executorNeeds = { cpus: 0.1, mem: 32 };
  const scheduler = createScheduler({
    master,
    framework: { user: 'root', name: 'bench-galley-shared' },
    handlers: {
      OFFERS: async (event, ctx) => {
        for (const offer of (event.offers.offers ?? []) as Offer[]) {
          if (next >= TASKS) {
            await ctx.scheduler.decline([offer.id], { refuse_seconds: 120 });
            continue;
          }
          const plan = new AcceptPlan([offer]);
          const executorId = `galley-executor-${offer.agent_id.value}`;
          let executorResources: TaskInfo['resources'] | undefined;
          const tasks: TaskInfo[] = [];
          while (next < TASKS) {
            const fit = plan.fit({ cpus: 0.1, mem: 32, ports: 1 }, { executorId, needs: executorNeeds });
            if (!fit.ok) break;
            executorResources ??= fit.executorResources;
            const id = `sleeper-${next++}`;
            tasks.push({
              name: id,
              task_id: { value: id },
              agent_id: offer.agent_id,
              resources: fit.resources,
              data,
              executor: {
                executor_id: { value: executorId },
                type: 'CUSTOM',
                name: 'galley-executor',
                command: {
                  value: 'galley-executor',
                  environment: { variables: [{ name: 'GALLEY_EXECUTOR_SHARED', value: '1' }] },
                },
                resources: executorResources ?? [],
              },
            });
          }
          if (tasks.length === 0) {
            await ctx.scheduler.decline([offer.id], { refuse_seconds: 0 });
            continue;
          }
          plan.launch(tasks);
          const accept = plan.toAccept(0);
          await ctx.scheduler.accept(accept.offer_ids, accept.operations, accept.filters);
        }
      },
    },
  });
  process.send?.({ type: 'starting' });
  reportCpuOnRequest(process.cpuUsage());
  scheduler.start();
}

async function child(contender: string, master: string): Promise<void> {
  try {
    if (contender === 'galley' || contender === 'command') await galleyChild(master);
    else if (contender === 'base') await galleyChild(master, BASE);
    else if (contender === 'shared') await sharedChild(master);
    else await peerChild(master);
  } catch (error) {
    process.send?.({ type: 'failed', error: String(error) });
  }
}

const args = process.argv.slice(2);
if (args[0] === '--child') await child(args[1] ?? '', args[2] ?? '');
