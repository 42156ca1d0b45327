import { sharedTaskDirectory, type FrameworkIdStore, type MesosScheduler } from '@galley/mesos';
import type { AttemptRecord } from '../../model/records.js';
import type { AgentDirectory } from './agents.js';
import { agentOfAttempt, handleOf, type AttemptTable } from './attempts.js';
import type { SandboxRef } from './sandbox-logs.js';

/**
 * Finds where an attempt's sandbox is: its agent (from the table, the attempt's stored handle or
 * its placement node), the agent's address (from offers, the handle, or the leading master's
 * `/master/state`), and the framework the task ran under.
 */
export class SandboxLocator {
  constructor(
    private readonly o: {
      /** A stored attempt (its handle and node tell where it ran after the table forgot it). */
      attempt: (attemptId: string) => Promise<AttemptRecord | null>;
      /** The cluster's stored framework id (the id the task ran under, when no handle says). */
      frameworkIds: FrameworkIdStore;
      table: AttemptTable;
      agents: AgentDirectory;
      /** The scheduler while subscribed, else null. */
      scheduler: () => MesosScheduler | null;
      /** The current framework id, if any. */
      frameworkId: () => string | undefined;
      authorization: { authorization?: string };
    },
  ) {}

  /** The sandbox of an attempt's task; null when it never reached an agent or the agent is unknown. */
  async locate(attemptId: string): Promise<SandboxRef | null> {
    const stored = await this.o.attempt(attemptId);
    const handle = stored ? handleOf(stored.handle) : null;
    const agentId = this.o.table.get(attemptId)?.agentId ?? (stored ? agentOfAttempt(stored) : null);
    if (!agentId) return null;
    const agentUrl = this.o.agents.get(agentId)?.url ?? handle?.agentUrl ?? (await this.fromMaster(agentId));
    const frameworkId = handle?.frameworkId ?? this.o.frameworkId() ?? (await this.o.frameworkIds.load());
    if (!agentUrl || !frameworkId) return null;
    // A run under a shared galley-executor has its files in `tasks/<attempt>/` of that executor's sandbox.
    const shared = this.o.table.get(attemptId)?.executorId ?? handle?.executorId ?? null;
    if (shared) return { agentUrl, frameworkId, executorId: shared, taskDir: sharedTaskDirectory(attemptId) };
    return { agentUrl, frameworkId, executorId: attemptId };
  }

  /** Looks an agent up in the leading master's state (an agent not seen in offers since the start). */
  private async fromMaster(agentId: string): Promise<string | null> {
    const s = this.o.scheduler();
    if (!s || s.state.phase !== 'SUBSCRIBED') return null;
    try {
      const res = await fetch(new URL('/master/state', s.state.master), {
        headers: this.o.authorization,
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) return null;
      const state = (await res.json()) as { slaves?: { id?: string; hostname?: string; port?: number }[] };
      const agent = state.slaves?.find((a) => a.id === agentId);
      if (!agent?.hostname || !agent.port) return null;
      const url = `http://${agent.hostname}:${agent.port}`;
      this.o.agents.learn(agentId, { hostname: agent.hostname, url });
      return url;
    } catch {
      return null;
    }
  }
}
