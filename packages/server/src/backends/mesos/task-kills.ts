import type { MesosScheduler } from '@galley/mesos';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';

/**
 * KILL calls (spec §1.4, §7.6), with the kill policy's grace period. Without a subscription a
 * kill is not sent; the backend sends kills again after the next SUBSCRIBED (it remembers which
 * attempts were asked to stop). Tasks Galley does not know are killed with no grace.
 */
export class TaskKills {
  private readonly recentUnknown = new Map<string, { state: string; at: number }>();

  constructor(
    private readonly scheduler: () => MesosScheduler | null,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Sends KILL for a task now if subscribed; failures are logged (the next SUBSCRIBED re-sends). */
  async send(taskId: string, agentId: string | undefined, graceMs: number): Promise<void> {
    const s = this.scheduler();
    if (!s) return;
    try {
      await s.kill(taskId, agentId, { grace_period: { nanoseconds: Math.round(graceMs) * 1_000_000 } });
    } catch (err) {
      this.log.warn({ err, taskId }, 'mesos: KILL failed; sent again after the next subscription');
    }
  }

  /**
   * Kills a live task Galley does not know. Repeats of the same state within a second send no
   * second KILL; a new state does (a KILL of an unreachable task is only answered by
   * reconciliation, so it must be sent again when the task reappears as running).
   */
  unknown(taskId: string, agentId: string | undefined, state: string): void {
    const now = this.clock.now();
    const last = this.recentUnknown.get(taskId);
    if (last !== undefined && last.state === state && now - last.at < 1_000) return;
    this.recentUnknown.set(taskId, { state, at: now });
    if (this.recentUnknown.size > 10_000) this.recentUnknown.clear();
    this.log.warn(
      { taskId, agentId, state },
      'mesos: killing a task of this framework that Galley does not know',
    );
    void this.send(taskId, agentId, 0);
  }
}
