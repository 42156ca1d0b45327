import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent, stopAgentServer } from './agent/agent.js';
import { loseAgent, reregisterAgent, removeAgent, restartAgent } from './agent/partition.js';
import { signalExecutorProcess } from './agent/custom-executor.js';
import { ProcessRegistry } from './agent/process-runner.js';
import { listCalls, snapshot, type CallFilter, type FakeMesosState } from './inspection.js';
import { allocate, removeOffer } from './master/allocator.js';
import { failover, type FailoverOptions } from './master/failover.js';
import { newMaintenanceState, sendInverseOffers } from './master/maintenance.js';
import { OfferFilters } from './master/filters.js';
import { startMasterServer, stopMasterServer } from './master/master-server.js';
import { abortSubscription } from './master/subscriptions.js';
import { uuidText } from './model/ids.js';
import { Timers } from './model/timers.js';
import type { FakeAgent, MasterServer, RecordedCall, World } from './model/world.js';
import { resolveAgentSpec, resolveOptions, type FakeAgentSpec, type FakeMesosOptions } from './options.js';

/**
 * A fake Mesos cluster on 127.0.0.1: masters speaking the v1 scheduler API, agents with their own
 * endpoints, the allocator, and fault injection. Create it with `startFakeMesos`; always `stop()` it.
 */
export interface FakeMesos {
  /** `http://127.0.0.1:<port>` of the leading master (throws while there is none). */
  readonly leaderUrl: string;
  /** Every master's base URL, by index (followers answer 307 to the leader). */
  readonly masterUrls: readonly string[];
  /** Agent ids in creation order. */
  readonly agentIds: readonly string[];
  /** Base URL of an agent's endpoint (`/state`, `/files/*`, `/api/v1/executor`). */
  agentUrl(agentId: string): string;
  /** Everything the fake knows right now. */
  state(): FakeMesosState;
  /** Calls received (scheduler and executor API), oldest first. */
  calls(filter?: CallFilter): RecordedCall[];
  /** Resolves with the first truthy value of `probe`, polled every 10 ms; rejects after `timeoutMs` (default 10 s). */
  waitFor<T>(
    probe: (state: FakeMesosState) => T | undefined | null | false,
    options?: { timeoutMs?: number; what?: string },
  ): Promise<T>;
  /** Fails the leader over to another master (see FailoverOptions); resolves once the new leader leads. */
  failover(options?: FailoverOptions): Promise<void>;
  /** Aborts a framework's SUBSCRIBE connection as a network failure would; false when it had none. */
  dropSubscription(frameworkId: string): boolean;
  /**
   * Loses contact with an agent: its offers are rescinded at once; after `unreachableAfterMs`
   * (default `agentPingTimeoutMs`) its tasks become unreachable and frameworks get FAILURE; with
   * `reregisterAfterMs` it comes back then.
   */
  loseAgent(agentId: string, options?: { unreachableAfterMs?: number; reregisterAfterMs?: number }): void;
  /** Brings a lost agent back now. */
  reregisterAgent(agentId: string): void;
  /** Restarts an agent: its endpoint is down for `downMs` (default 100), executors must re-subscribe. */
  restartAgent(agentId: string, options?: { downMs?: number }): Promise<void>;
  /**
   * Sends a signal to a custom executor's process (SIGKILL: it dies; SIGSTOP: it hangs); false
   * when the agent runs no such executor process.
   */
  signalExecutor(agentId: string, executorId: string, signal: NodeJS.Signals): boolean;
  /** Adds an agent; returns its id. It is offered at once. */
  addAgent(spec?: FakeAgentSpec): Promise<string>;
  /** Removes an agent for good (TASK_GONE_BY_OPERATOR / TASK_LOST, FAILURE). */
  removeAgent(agentId: string): Promise<void>;
  /** Rescinds an outstanding offer (RESCIND event; resources go back without a filter). */
  rescindOffer(offerId: string): boolean;
  /** Kills every process, closes every endpoint and cancels every timer. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a fake cluster; masters and agents listen on OS-chosen ports unless told otherwise. */
export async function startFakeMesos(options: FakeMesosOptions = {}): Promise<FakeMesos> {
  const resolved = resolveOptions(options);
  const ownWorkDir = resolved.workDir === undefined;
  const workDir = resolved.workDir ?? mkdtempSync(join(tmpdir(), 'galley-fake-mesos-'));
  let allocationPending = false;
  const world: World = {
    options: resolved,
    leadership: {
      masterId: uuidText(),
      leaderIndex: 0,
      ready: true,
      offerSequence: 0,
      frameworkSequence: 0,
      agentSequence: 0,
    },
    masters: Array.from({ length: resolved.masters }, (_, index): MasterServer => ({
      index,
      port: 0,
      phase: index === 0 ? 'leading' : 'following',
      server: undefined,
    })),
    frameworks: new Map(),
    removedFrameworks: new Set(),
    completedFrameworks: [],
    agents: new Map(),
    offers: new Map(),
    usage: new Map(),
    filters: new OfferFilters(),
    calls: [],
    executorMessages: [],
    timers: new Timers(),
    processes: new ProcessRegistry(),
    simulatedSandboxes: new Map(),
    workDir,
    host: '127.0.0.1',
    maintenance: newMaintenanceState(),
    stopping: false,
    allocateSoon: () => {
      if (allocationPending) return;
      allocationPending = true;
      setImmediate(() => {
        allocationPending = false;
        allocationCycle(world);
      });
    },
  };
  try {
    for (const master of world.masters) await startMasterServer(world, master);
    for (const spec of resolved.agents) await createAgent(world, spec);
  } catch (error) {
    await shutdown(world, ownWorkDir);
    throw error;
  }
  world.timers.every(resolved.allocationIntervalMs, () => allocationCycle(world));
  return createHandle(world, ownWorkDir);
}

/** One allocation: offers, then inverse offers for draining machines (as Mesos' allocator does). */
function allocationCycle(world: World): void {
  allocate(world);
  if (world.leadership.leaderIndex !== undefined && world.leadership.ready && !world.stopping)
    sendInverseOffers(world);
}

function agentOf(world: World, agentId: string): FakeAgent {
  const agent = world.agents.get(agentId);
  if (agent === undefined) throw new Error(`no agent ${agentId} in the fake cluster`);
  return agent;
}

async function shutdown(world: World, ownWorkDir: boolean): Promise<void> {
  if (world.stopping) return;
  world.stopping = true;
  world.timers.clearAll();
  world.processes.killAll();
  for (const framework of world.frameworks.values()) framework.subscription?.stream.abort();
  await Promise.all([
    ...world.masters.map(stopMasterServer),
    ...[...world.agents.values()].map(stopAgentServer),
  ]);
  if (ownWorkDir) rmSync(world.workDir, { recursive: true, force: true });
}

function createHandle(world: World, ownWorkDir: boolean): FakeMesos {
  const url = (port: number): string => `http://${world.host}:${port}`;
  return {
    get leaderUrl() {
      const index = world.leadership.leaderIndex;
      const master = index === undefined ? undefined : world.masters[index];
      if (master === undefined) throw new Error('the fake cluster has no leading master right now');
      return url(master.port);
    },
    get masterUrls() {
      return world.masters.map((m) => url(m.port));
    },
    get agentIds() {
      return [...world.agents.keys()];
    },
    agentUrl: (agentId) => url(agentOf(world, agentId).port),
    state: () => snapshot(world),
    calls: (filter) => listCalls(world, filter),
    waitFor: async (probe, options = {}) => {
      const deadline = Date.now() + (options.timeoutMs ?? 10_000);
      for (;;) {
        const value = probe(snapshot(world));
        if (value !== undefined && value !== null && value !== false) return value;
        if (Date.now() > deadline)
          throw new Error(`fake Mesos: timed out waiting for ${options.what ?? 'a condition'}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    failover: (options) => failover(world, options),
    dropSubscription: (frameworkId) => {
      const framework = world.frameworks.get(frameworkId);
      return framework === undefined ? false : abortSubscription(framework);
    },
    loseAgent: (agentId, options = {}) => loseAgent(world, agentOf(world, agentId), options),
    reregisterAgent: (agentId) => reregisterAgent(world, agentOf(world, agentId)),
    restartAgent: (agentId, options = {}) =>
      restartAgent(world, agentOf(world, agentId), options.downMs ?? 100),
    signalExecutor: (agentId, executorId, signal) => {
      const executor = [...agentOf(world, agentId).executors.values()].find((e) => e.id === executorId);
      return executor !== undefined && signalExecutorProcess(executor, signal);
    },
    addAgent: async (spec = {}) => {
      const agent = await createAgent(world, resolveAgentSpec(spec, world.options.agents[0]?.resources));
      return agent.id;
    },
    removeAgent: (agentId) => removeAgent(world, agentOf(world, agentId)),
    rescindOffer: (offerId) => {
      const offer = world.offers.get(offerId);
      if (offer === undefined) return false;
      removeOffer(world, offer, { rescind: true });
      return true;
    },
    stop: () => shutdown(world, ownWorkDir),
  };
}
