import { randomBytes } from 'node:crypto';
import type { ExecutorInfo, Offer, Resource, ResourceNeeds } from '@galley/mesos';

/**
 * One shared, long-lived galley-executor per agent and role (`--mesos-executor galley`): every run
 * launched there without an image runs under it, so the agent starts one executor process instead
 * of one per task, and its resources are accounted once (spec §6.3: an executor already on the
 * agent is listed in the offers' `executor_ids` and needs nothing more).
 *
 * Mesos requires every task of a running executor to carry an ExecutorInfo equal to the one it was
 * launched with (resources included), so the first launch's ExecutorInfo is kept and sent again
 * verbatim while its offers list the executor. When they no longer do (it stopped after its idle
 * timeout, or died), the next launch starts a new executor under a new id: a new id also gives it a
 * new sandbox, so the `runs/latest` path of every executor id is the run its tasks ran in.
 */

/** What a shared galley-executor is given: small, like Mesos' own command executor overhead. */
export const SHARED_EXECUTOR_NEEDS: ResourceNeeds = { cpus: 0.1, mem: 32 };

/** How long an idle shared executor waits for its next run before it stops (stout duration). */
export const SHARED_EXECUTOR_IDLE_TIMEOUT = '10mins';

/** An agent that could not start galley-executor: its runs go to Mesos' command executor. */
export interface ExecutorFallback {
  hostname: string;
  /** What the agent said when the executor could not start. */
  why: string;
  at: number;
}

/** The shared executors of one framework, by agent and role. */
export class SharedExecutors {
  private readonly current = new Map<string, ExecutorInfo>();
  /**
   * Executors an update came from (they subscribed and ran something). Kept after they end: their
   * FAILURE may come before their tasks' last updates, which must not read as a failed start.
   */
  private readonly heard = new Set<string>();
  /** Agents that could not start galley-executor (learned until the server restarts), by agent id. */
  private readonly fallbacks = new Map<string, ExecutorFallback>();

  constructor(
    private readonly command: string,
    private readonly newId: () => string = () => `galley-executor-${randomBytes(4).toString('hex')}`,
    /** Fetched into the executor's sandbox before the command runs (`--mesos-executor-uri`). */
    private readonly uris: readonly string[] = [],
  ) {}

  /**
   * The executor to launch the next task of `offers` (one agent and role) under: the kept one while
   * the offers list it (it runs), else a new id whose ExecutorInfo is made from the resources
   * AcceptPlan cuts for it (`infoFor`).
   */
  executorFor(agentId: string, role: string, offers: readonly Offer[]): SharedExecutor | undefined {
    if (this.fallbacks.has(agentId)) return undefined;
    const key = `${agentId} ${role}`;
    const kept = this.current.get(key);
    const running =
      kept !== undefined &&
      offers.some((o) => (o.executor_ids ?? []).some((e) => e.value === kept.executor_id.value));
    if (running) return { executorId: kept.executor_id.value, infoFor: () => kept };
    const executorId = this.newId();
    return {
      executorId,
      infoFor: (resources) => {
        const made = this.current.get(key);
        if (made?.executor_id.value === executorId) return made;
        const info = this.info(executorId, resources ?? []);
        this.current.set(key, info);
        return info;
      },
    };
  }

  /**
   * True when the next run there would start a shared executor (none runs there for `role`, and
   * the agent did not fall back): placement then keeps its resources free beside the runs
   * (`withExecutorRoom`), so the executor the first of them starts does not take another's room.
   */
  startsOn(agentId: string, role: string, offers: readonly Offer[]): boolean {
    if (this.fallbacks.has(agentId)) return false;
    const kept = this.current.get(`${agentId} ${role}`);
    return !(
      kept !== undefined &&
      offers.some((o) => (o.executor_ids ?? []).some((e) => e.value === kept.executor_id.value))
    );
  }

  /** The executor ended (FAILURE with its id): the next task on that agent starts a new one. */
  ended(agentId: string, executorId: string): void {
    for (const [key, info] of this.current) {
      if (key.startsWith(`${agentId} `) && info.executor_id.value === executorId) this.current.delete(key);
    }
  }

  /** An update came from the executor: it started. */
  heardFrom(executorId: string): void {
    this.heard.add(executorId);
  }

  /** True once an update came from the executor since this server started. */
  wasHeardFrom(executorId: string): boolean {
    return this.heard.has(executorId);
  }

  /**
   * The executor could not start on this agent (`executor-failures.ts`): its runs go to the
   * command executor from now on, and the executor kept for it is forgotten.
   */
  fallBack(agentId: string, hostname: string | null, why: string, at: number): void {
    if (!this.fallbacks.has(agentId)) this.fallbacks.set(agentId, { hostname: hostname ?? '', why, at });
    for (const key of [...this.current.keys()]) if (key.startsWith(`${agentId} `)) this.current.delete(key);
  }

  /** The agents that fell back to the command executor. */
  fallbackAgents(): string[] {
    return [...this.fallbacks.keys()];
  }

  /** Why the agent runs Galley's runs under the command executor; undefined = under galley-executor. */
  fallbackOf(agentId: string): ExecutorFallback | undefined {
    return this.fallbacks.get(agentId);
  }

  private info(executorId: string, resources: Resource[]): ExecutorInfo {
    return {
      type: 'CUSTOM',
      executor_id: { value: executorId },
      name: 'galley-executor',
      command: {
        ...(this.uris.length > 0
          ? { uris: this.uris.map((value) => ({ value, extract: true, cache: false })) }
          : {}),
        shell: true,
        value: this.command,
        environment: {
          variables: [
            { name: 'GALLEY_EXECUTOR_SHARED', value: '1' },
            { name: 'GALLEY_EXECUTOR_IDLE_TIMEOUT', value: SHARED_EXECUTOR_IDLE_TIMEOUT },
          ],
        },
      },
      resources,
    };
  }
}

/** The shared executor a task is launched under. */
export interface SharedExecutor {
  executorId: string;
  /**
   * Its ExecutorInfo: the kept one, or, for a new executor, one made (once) with the resources
   * AcceptPlan cut for it with its first task (`fit(…).executorResources`).
   */
  infoFor(resources: Resource[] | undefined): ExecutorInfo;
}

/**
 * Nodes (one agent and role each) as placement sees them: where a run would start a shared
 * executor, its resources are taken off the node's free ones.
 */
export function withExecutorRoom<N extends { id: string; free: { cpus: number; memMb: number } }>(
  nodes: N[],
  starts: (nodeId: string) => boolean,
): N[] {
  return nodes.map((n) =>
    starts(n.id)
      ? {
          ...n,
          free: {
            ...n.free,
            cpus: Math.max(0, Math.round((n.free.cpus - (SHARED_EXECUTOR_NEEDS.cpus ?? 0)) * 1000) / 1000),
            memMb: Math.max(0, n.free.memMb - (SHARED_EXECUTOR_NEEDS.mem ?? 0)),
          },
        }
      : n,
  );
}
