/**
 * bench:sdk — the same workload with @galley/mesos (its task manager) and with the npm package
 * `mesos-framework` (its `tasks` option, used as published): 200 agents, 10 000 command tasks of
 * 0.1 cpu / 32 MB / 1 port, until every task is RUNNING and that update is acknowledged.
 *
 * The fake master (simulate mode) runs in this process; each framework runs in its own child
 * process, one after the other, against a fresh fake, so neither can slow the other. Time is
 * measured at the master: from the framework's SUBSCRIBE to the ACKNOWLEDGE that completed the
 * last RUNNING task. The Galley child reports its own CPU seconds (process.cpuUsage, from just
 * before it subscribes until the parent says the workload is done).
 *
 * A framework that has not finished after BENCH_SDK_LIMIT_S seconds (default 60) is stopped and
 * reported with how many tasks it got RUNNING and acknowledged, and how many it launched (RUNNING at
 * their agents); the speedup then compares Galley's rate with the peer's launch rate.
 *
 * Environment: BENCH_SDK_TASKS (10000), BENCH_SDK_AGENTS (200), BENCH_SDK_LIMIT_S (60),
 * BENCH_SDK_ONLY (galley|peer), BENCH_SDK_NODE_ARGS (node flags for the child, e.g. --trace-gc;
 * its stdout is then shown). Last line printed:
 *   {"tasks":10000,"galley_s":…,"peer_s":…,"speedup":…,"speedup_basis":…,"galley_cpu_s":…,
 *    "master_cpu_s":…[,"peer_running":N,"peer_launched":N,"peer_launched_s":…]}
 * master_cpu_s is this process's CPU (the fake master) while Galley ran, less what the watcher
 * below spends inspecting the fake (its snapshots of 10 000 tasks, every second once a run
 * passed 5 s, used to count as the master's): on a 2-core machine galley_s cannot be much below
 * (galley_cpu_s + master_cpu_s) / 2.
 *
 * Those two runs start executors for free, as the fake did before it modelled their cost. Then the
 * same workload runs twice more with Galley with the cost of starting an executor modelled
 * (`executorStartMs`, at most `executorStartConcurrency` at once per agent): through the command
 * executor (one executor per task: the task manager, as above) and through one shared
 * galley-executor per agent (`shared`: every task of an agent launched with the same
 * ExecutorInfo, so the agent starts one executor). The modelled cost is what the issue measured on
 * a real Mesos 1.12 cluster of two agents sharing one 2-core machine — 50 command tasks RUNNING in
 * 22.4 s, 0.9 s per launch and agent, one at a time — (BENCH_SDK_EXECUTOR_START_MS, 900;
 * BENCH_SDK_EXECUTOR_START_CONCURRENCY, 1). They add
 *   "command_executor_s":…, "shared_executor_s":…, "shared_speedup":…,
 *   "executor_start_ms":…, "executor_start_concurrency":…
 * to the last line. BENCH_SDK_ONLY also takes `command` or `shared`; BENCH_SDK_MODELLED=0 skips them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FakeMesos } from '@galley/mesos/testing';
import type * as Testing from '@galley/mesos/testing';
import { fileURLToPath } from 'node:url';
import { BASE, TASKS } from './sdk-contenders.js';

const AGENTS = Number(process.env['BENCH_SDK_AGENTS'] ?? 200);
const LIMIT_S = Number(process.env['BENCH_SDK_LIMIT_S'] ?? 60);
const ONLY = process.env['BENCH_SDK_ONLY'];
/** Each agent offers room for more than its share (50 tasks: 5 cpus, 1600 MB, 50 ports). */
const AGENT_RESOURCES = 'cpus:8;mem:4096;disk:10000;ports:[31000-32000]';
/** The modelled cost of starting an executor (see the header). */
const EXECUTOR_START_MS = Number(process.env['BENCH_SDK_EXECUTOR_START_MS'] ?? 900);
const EXECUTOR_START_CONCURRENCY = Number(process.env['BENCH_SDK_EXECUTOR_START_CONCURRENCY'] ?? 1);
const MODELLED = process.env['BENCH_SDK_MODELLED'] !== '0';
/** Galley runs this many times (alternating with `base` when BENCH_SDK_BASE is set); figures are medians. */
const ROUNDS = Math.max(1, Number(process.env['BENCH_SDK_ROUNDS'] ?? 1));

/**
 * `command`: Galley's task manager with executor starts modelled; `shared`: one galley-executor
 * per agent; `base`: `galley` with the fake and the SDK of the BENCH_SDK_BASE build.
 */
type Contender = 'galley' | 'peer' | 'command' | 'shared' | 'base';

/** The fake's executor start cost for a contender: free for today's figures, modelled for the rest. */
function executorCost(contender: Contender): { executorStartMs: number; executorStartConcurrency?: number } {
  if (contender === 'galley' || contender === 'peer' || contender === 'base') return { executorStartMs: 0 };
  return { executorStartMs: EXECUTOR_START_MS, executorStartConcurrency: EXECUTOR_START_CONCURRENCY };
}

/** How long a contender may take: the command executor's modelled starts alone take TASKS/AGENTS × cost. */
function limitSeconds(contender: Contender): number {
  if (contender !== 'command') return LIMIT_S;
  const starts = ((TASKS / AGENTS) * EXECUTOR_START_MS) / EXECUTOR_START_CONCURRENCY / 1000;
  return Math.max(LIMIT_S, Math.ceil(starts * 2 + 30));
}

/** Messages from a child. */
type ChildMessage =
  { type: 'starting' } | { type: 'cpu'; seconds: number } | { type: 'failed'; error: string };

interface Outcome {
  contender: Contender;
  /** Seconds from SUBSCRIBE to the last needed ACKNOWLEDGE, or the limit. */
  seconds: number;
  /** Tasks RUNNING with that update acknowledged (at the end). */
  running: number;
  finished: boolean;
  /** Tasks RUNNING at their agents, acknowledged or not (at the end). */
  started: number;
  /** When every task was RUNNING at its agent (s after SUBSCRIBE), for a framework that did not finish. */
  startedSeconds: number | undefined;
  cpuSeconds: number | undefined;
  /** CPU seconds of this process (the fake master, sharing the machine) while the framework ran. */
  masterCpuSeconds: number;
}

// ---------------------------------------------------------------- parent

async function runContender(contender: Contender): Promise<Outcome> {
  const { startFakeMesos } = (
    contender === 'base'
      ? await import(join(BASE ?? '', 'dist/testing/index.js'))
      : await import('@galley/mesos/testing')
  ) as typeof Testing;
  const fake = await startFakeMesos({
    agents: Array.from({ length: AGENTS }, () => ({ resources: AGENT_RESOURCES })),
    execution: 'simulate',
    heartbeatIntervalSeconds: 15,
    ...executorCost(contender),
  });
  const profile = process.env['BENCH_SDK_PROFILE'];
  const child = fork(
    fileURLToPath(new URL('./sdk-contenders.ts', import.meta.url)),
    ['--child', contender, fake.leaderUrl],
    {
      execArgv: [
        ...process.execArgv,
        ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
        ...(process.env['BENCH_SDK_NODE_ARGS']?.split(' ').filter((a) => a !== '') ?? []),
      ],
      stdio: [
        'ignore',
        // Node's own diagnostics (--trace-gc, …) go to stdout.
        process.env['BENCH_SDK_NODE_ARGS'] ? 'inherit' : 'ignore',
        process.env['BENCH_SDK_DEBUG'] ? 'inherit' : contender === 'peer' ? 'ignore' : 'inherit',
        'ipc',
      ],
    },
  );
  const messages: ChildMessage[] = [];
  child.on('message', (m) => messages.push(m as ChildMessage));
  try {
    const deadline = Date.now() + limitSeconds(contender) * 1000 + 30_000;
    const subscribeAt = await poll(
      () => fake.calls({ type: 'SUBSCRIBE' })[0]?.at,
      deadline,
      20,
      child,
      messages,
    );
    const masterCpu = process.cpuUsage();
    const progress = await watch(fake, subscribeAt, child, messages, limitSeconds(contender));
    const masterUsed = process.cpuUsage(masterCpu);
    // The watcher's snapshots of the fake are this bench's cost, not the master's.
    const masterCpuSeconds = (masterUsed.user + masterUsed.system) / 1e6 - progress.watchCpuSeconds;
    if (process.env['BENCH_SDK_DEBUG']) debugSummary(contender, fake, subscribeAt);
    const cpuSeconds = await askCpu(child, messages);
    return { contender, ...progress, cpuSeconds, masterCpuSeconds };
  } finally {
    // A child that answered `report` exits by itself (flushing a --cpu-prof profile); others are killed.
    const exited = new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    child.kill('SIGKILL');
    await fake.stop();
  }
}

/**
 * Watches the fake until every task is RUNNING with that update acknowledged, or the limit.
 * Every task's STARTING and RUNNING updates need an ACKNOWLEDGE, so the (costly) full snapshot is
 * only taken once there are two per task. After 5 s, a snapshot per second also notes when every
 * task was RUNNING at its agent, acknowledged or not (for frameworks that never finish).
 */
async function watch(
  fake: FakeMesos,
  subscribeAt: number,
  child: ChildProcess,
  messages: ChildMessage[],
  limitS: number,
): Promise<Omit<Outcome, 'contender' | 'cpuSeconds' | 'masterCpuSeconds'> & { watchCpuSeconds: number }> {
  const limitAt = subscribeAt + limitS * 1000;
  let started = 0;
  let allStartedAt: number | undefined;
  let lastSnapshot = 0;
  // CPU this watcher spends inspecting the fake (a snapshot of 10 000 tasks costs tens of ms).
  let watchMicros = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    failIfBroken(child, messages);
    const cpuAt = process.cpuUsage();
    const now = Date.now();
    const acks = fake.calls({ type: 'ACKNOWLEDGE' }).length;
    const due = acks >= 2 * TASKS || now >= limitAt;
    if (!due && (now - subscribeAt < 5000 || now - lastSnapshot < 1000)) {
      const used = process.cpuUsage(cpuAt);
      watchMicros += used.user + used.system;
      continue;
    }
    lastSnapshot = now;
    const tasks = fake.state().tasks;
    started = tasks.filter((t) => t.state === 'TASK_RUNNING').length;
    if (started >= TASKS) allStartedAt ??= now;
    const running = countRunning(tasks);
    const used = process.cpuUsage(cpuAt);
    watchMicros += used.user + used.system;
    const watchCpuSeconds = watchMicros / 1e6;
    if (running >= TASKS) {
      const end = Math.max(...fake.calls({ type: 'ACKNOWLEDGE', status: 202 }).map((c) => c.at));
      return {
        seconds: (end - subscribeAt) / 1000,
        running,
        finished: true,
        started,
        startedSeconds: undefined,
        watchCpuSeconds,
      };
    }
    if (now >= limitAt) {
      const startedSeconds = allStartedAt === undefined ? undefined : (allStartedAt - subscribeAt) / 1000;
      return { seconds: limitS, running, finished: false, started, startedSeconds, watchCpuSeconds };
    }
  }
}

function debugSummary(contender: Contender, fake: FakeMesos, subscribeAt: number): void {
  const counts: Record<string, number> = {};
  for (const c of fake.calls()) {
    const key = `${c.type} ${c.status}`;
    counts[key] = (counts[key] ?? 0) + 1;
    counts[`${c.type} first ms`] ??= c.at - subscribeAt;
    counts[`${c.type} last ms`] = c.at - subscribeAt;
  }
  for (const t of fake.state().tasks) {
    const key = `task ${t.state}/${t.statusUpdateState}/pending ${t.pendingUpdates}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  console.error(contender, counts);
}

function countRunning(
  tasks: readonly { state: string; statusUpdateState: string | undefined; pendingUpdates: number }[],
): number {
  let n = 0;
  for (const t of tasks) {
    if (t.state === 'TASK_RUNNING' && t.statusUpdateState === 'TASK_RUNNING' && t.pendingUpdates === 0) n++;
  }
  return n;
}

async function poll<T>(
  probe: () => T | undefined,
  deadline: number,
  everyMs: number,
  child: ChildProcess,
  messages: ChildMessage[],
): Promise<T> {
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    failIfBroken(child, messages);
    if (Date.now() > deadline) throw new Error('the framework never subscribed');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function failIfBroken(child: ChildProcess, messages: ChildMessage[]): void {
  const failure = messages.find((m) => m.type === 'failed');
  if (failure !== undefined && failure.type === 'failed') throw new Error(`child failed: ${failure.error}`);
  if (child.exitCode !== null) throw new Error(`child exited with ${child.exitCode}`);
}

async function askCpu(child: ChildProcess, messages: ChildMessage[]): Promise<number | undefined> {
  if (!child.connected) return undefined;
  child.send({ type: 'report' });
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const cpu = messages.find((m) => m.type === 'cpu');
    if (cpu !== undefined && cpu.type === 'cpu') return cpu.seconds;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

async function parent(): Promise<void> {
  const round = (n: number, digits = 3) => Number(n.toFixed(digits));
  const results: Partial<Record<Contender, Outcome>> = {};
  const rounds: Outcome[] = [];
  const baseRounds: Outcome[] = [];
  const order: Contender[] = [];
  if (ONLY === undefined || ONLY === 'galley') {
    // Galley (and the base build) first, alternating which goes first in each round.
    for (let r = 0; r < ROUNDS; r++) {
      if (BASE === undefined) order.push('galley');
      else order.push(...(r % 2 === 0 ? (['base', 'galley'] as const) : (['galley', 'base'] as const)));
    }
  }
  order.push('peer', 'command', 'shared');
  for (const contender of order) {
    if (contender !== 'galley' && contender !== 'base' && ONLY !== undefined && ONLY !== contender) continue;
    if (ONLY === undefined && !MODELLED && (contender === 'command' || contender === 'shared')) continue;
    const o = await runContender(contender);
    results[contender] = o;
    if (contender === 'galley') rounds.push(o);
    if (contender === 'base') baseRounds.push(o);
    const notes = [
      o.finished ? '' : ` (stopped at the ${LIMIT_S} s limit; ${o.started} RUNNING at their agents`,
      o.finished || o.startedSeconds === undefined ? '' : `, all of them after ${round(o.startedSeconds)} s`,
      o.finished ? '' : ')',
      o.cpuSeconds === undefined ? '' : `, ${round(o.cpuSeconds)} CPU s`,
      `; the fake master used ${round(o.masterCpuSeconds)} CPU s meanwhile`,
    ];
    const what =
      contender === 'command'
        ? 'galley, one command executor per task'
        : contender === 'shared'
          ? 'galley, one shared galley-executor per agent'
          : contender === 'base'
            ? `galley of ${BASE}`
            : contender;
    const cost =
      contender === 'command' || contender === 'shared'
        ? ` (executor start ${EXECUTOR_START_MS} ms, ${EXECUTOR_START_CONCURRENCY} at once per agent)`
        : '';
    console.log(
      `${what}${cost}: ${o.running}/${TASKS} RUNNING and acknowledged in ${round(o.seconds)} s${notes.join('')}`,
    );
  }
  if (rounds.length > 0) results.galley = medianOutcome(rounds);
  const galley = results.galley;
  const peer = results.peer;
  const line: Record<string, number | string> = { tasks: TASKS };
  if (rounds.length > 1) line.rounds = rounds.length;
  if (galley !== undefined) line.galley_s = round(galley.seconds);
  if (peer !== undefined) line.peer_s = round(peer.seconds);
  if (galley !== undefined && peer !== undefined) {
    if (peer.finished && galley.finished) {
      line.speedup = round(peer.seconds / galley.seconds, 1);
      line.speedup_basis = 'running and acknowledged';
    } else {
      // The peer did not finish the workload. Compare what it did get done: tasks it launched
      // (RUNNING at their agents, acknowledged or not), over the time it needed for them (or the
      // limit). This flatters the peer (it is spared the acknowledgements), so the figure is a
      // conservative one.
      const peerSeconds = peer.startedSeconds ?? LIMIT_S;
      const peerRate = peer.started / peerSeconds;
      const galleyRate = galley.running / galley.seconds;
      line.peer_launched = peer.started;
      line.peer_launched_s = round(peerSeconds);
      line.speedup = peerRate > 0 ? round(galleyRate / peerRate, 1) : 'peer launched nothing';
      line.speedup_basis = 'galley running+acknowledged rate / peer launched rate';
      console.log(
        `the peer launched ${peer.started} tasks in ${round(peerSeconds)} s but acknowledged ${peer.running}; ` +
          "the speedup compares its launch rate with Galley's rate of RUNNING and acknowledged tasks",
      );
    }
  }
  if (galley?.cpuSeconds !== undefined) line.galley_cpu_s = round(galley.cpuSeconds);
  if (galley !== undefined) line.master_cpu_s = round(galley.masterCpuSeconds);
  if (baseRounds.length > 0) {
    const base = medianOutcome(baseRounds);
    line.base_galley_s = round(base.seconds);
    if (base.cpuSeconds !== undefined) line.base_galley_cpu_s = round(base.cpuSeconds);
    line.base_master_cpu_s = round(base.masterCpuSeconds);
  }
  if (galley !== undefined && !galley.finished) line.galley_running = galley.running;
  if (peer !== undefined && !peer.finished) line.peer_running = peer.running;
  const command = results.command;
  const shared = results.shared;
  if (command !== undefined || shared !== undefined) {
    line.executor_start_ms = EXECUTOR_START_MS;
    line.executor_start_concurrency = EXECUTOR_START_CONCURRENCY;
  }
  if (command !== undefined) line.command_executor_s = round(command.seconds);
  if (command !== undefined && !command.finished) line.command_executor_running = command.running;
  if (shared !== undefined) line.shared_executor_s = round(shared.seconds);
  if (shared !== undefined && !shared.finished) line.shared_executor_running = shared.running;
  if (command !== undefined && shared !== undefined) {
    // By rate of RUNNING and acknowledged tasks (the same as by time when both finished).
    line.shared_speedup = round(shared.running / shared.seconds / (command.running / command.seconds), 1);
  }
  console.log(JSON.stringify(line));
}

/** Each figure's median over the rounds (a round that did not finish counts at the limit). */
function medianOutcome(outcomes: readonly Outcome[]): Outcome {
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  };
  const first = outcomes[0] as Outcome;
  if (outcomes.length === 1) return first;
  const cpu = outcomes.map((o) => o.cpuSeconds).filter((c): c is number => c !== undefined);
  return {
    ...first,
    seconds: median(outcomes.map((o) => o.seconds)),
    running: Math.min(...outcomes.map((o) => o.running)),
    finished: outcomes.every((o) => o.finished),
    cpuSeconds: cpu.length === 0 ? undefined : median(cpu),
    masterCpuSeconds: median(outcomes.map((o) => o.masterCpuSeconds)),
  };
}

await parent();
process.exit(0);
