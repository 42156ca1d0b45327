import { decodeTaskUsage, type TaskStatus } from '@galley/mesos';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { AttemptUsage, BackendEvent } from '../backend.js';
import { UsageMeter } from '../local/usage.js';
import type { TrackedTask } from './attempts.js';
import { parseStatistics, withUsage } from './usage.js';

/**
 * Reads what running attempts use from their agents' `/monitor/statistics` (Mesos' resource
 * monitor): every `intervalMs`, one GET per agent that runs Galley attempts under their own command
 * executors, each attempt's peaks kept (`mem_rss_bytes` and the CPU rate between readings; a peak
 * between two readings is missed, as the agent reports no watermark). When an attempt ends its
 * peaks go with the end (`ended`), with an out-of-memory kill's words (`usage.ts`). Runs under a
 * shared galley-executor are measured by the executor itself, whose terminal update carries them
 * (`executorMeasured`): the agent reports the executor as a whole, not each run.
 */

/** How often agents are asked, by default: modest, one small GET per agent with running attempts. */
export const USAGE_INTERVAL_MS = 2_000;

/** How long one agent may take to answer. */
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Rounds are spaced so that polling takes at most 1/BUSY_SHARE of the time: a round costs in
 * proportion to the attempts running (every agent's answer parsed), about 0.6 s at 100,000 on the
 * 2-core development machine, which a fixed 2 s interval would turn into a third of a core taken
 * from dispatch. A peak that lasts less than the stretched interval may then be missed, as one
 * between two readings always can be.
 */
const BUSY_SHARE = 20;

/**
 * The delay before the next round: the interval, or longer after a round whose own work (walking
 * the attempts, parsing the answers: time on the event loop, not time waiting for agents) was long.
 */
export function nextPollDelayMs(intervalMs: number, lastRoundWorkMs: number): number {
  return Math.max(intervalMs, Math.ceil(lastRoundWorkMs * BUSY_SHARE));
}

interface Measured {
  meter: UsageMeter;
  /** When the attempt was launched (ms): a short one's CPU is its average since then. */
  since: number;
}

export class MesosUsage {
  private readonly measured = new Map<string, Measured>();
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private polling = false;
  /** Event-loop time the current round has spent so far (ms). */
  private roundWorkMs = 0;

  constructor(
    private readonly o: {
      /** The tracked attempts now. */
      tasks: () => Iterable<TrackedTask>;
      /** The agent's base URL (`http://host:port`), null when unknown. */
      agentUrl: (agentId: string) => string | null;
      authorization: { authorization?: string };
      clock: Clock;
      logger: Logger;
      intervalMs?: number;
    },
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  stop(): void {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The next round after one that worked `lastRoundWorkMs` (see nextPollDelayMs). */
  private schedule(lastRoundWorkMs: number): void {
    const delay = nextPollDelayMs(this.o.intervalMs ?? USAGE_INTERVAL_MS, lastRoundWorkMs);
    this.timer = setTimeout(() => {
      void this.poll()
        .catch((err: unknown) => this.o.logger.warn({ err }, 'mesos: usage round failed'))
        .finally(() => {
          if (this.started) this.schedule(this.roundWorkMs);
        });
    }, delay);
    this.timer.unref();
  }

  /** One round: every agent with running attempts is asked once (a round still going is not doubled). */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    this.roundWorkMs = 0;
    const began = performance.now();
    try {
      const byAgent = new Map<string, Set<string>>();
      const tracked = new Set<string>();
      for (const t of this.o.tasks()) {
        tracked.add(t.attemptId);
        if (t.phase !== 'running' || !t.agentId || t.executorId !== null) continue;
        if (!this.measured.has(t.attemptId))
          this.measured.set(t.attemptId, { meter: new UsageMeter(), since: t.since });
        let ids = byAgent.get(t.agentId);
        if (!ids) byAgent.set(t.agentId, (ids = new Set()));
        ids.add(t.attemptId);
      }
      // Attempts that ended without an update here (given up, relaunched) are forgotten.
      for (const id of this.measured.keys()) if (!tracked.has(id)) this.measured.delete(id);
      this.roundWorkMs += performance.now() - began;
      await Promise.all([...byAgent].map(([agentId, ids]) => this.pollAgent(agentId, ids)));
    } finally {
      this.polling = false;
    }
  }

  private async pollAgent(agentId: string, attemptIds: ReadonlySet<string>): Promise<void> {
    const url = this.o.agentUrl(agentId);
    if (!url) return;
    let text: string;
    try {
      const res = await fetch(new URL('/monitor/statistics', url), {
        headers: this.o.authorization,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (!res.ok) {
        this.o.logger.debug({ agentId, status: res.status }, 'mesos: /monitor/statistics refused');
        return;
      }
      text = await res.text();
    } catch (err) {
      this.o.logger.debug({ err, agentId }, 'mesos: /monitor/statistics unreachable');
      return;
    }
    const began = performance.now();
    try {
      for (const sample of parseStatistics(JSON.parse(text) as unknown, this.o.clock.now())) {
        if (attemptIds.has(sample.executorId)) this.measured.get(sample.executorId)?.meter.observe(sample);
      }
    } catch (err) {
      this.o.logger.debug({ err, agentId }, 'mesos: /monitor/statistics is not JSON');
    } finally {
      this.roundWorkMs += performance.now() - began;
    }
  }

  /** What an attempt used, once it ended (forgotten then); undefined when nothing was measured. */
  private takeUsage(attemptId: string, at: number): AttemptUsage | undefined {
    const m = this.measured.get(attemptId);
    this.measured.delete(attemptId);
    if (!m) return undefined;
    const u = m.meter.usage(m.since, at);
    return u.maxMemoryMb === null && u.maxCpuMillicores === null ? undefined : u;
  }

  /**
   * The events of one status update with the usage of the attempts they end (and an OOM kill in
   * Galley's words). `memMb` is the run's memory as tracked before the update (null when unknown).
   */
  ended(events: BackendEvent[], status: TaskStatus, memMb: number | null): BackendEvent[] {
    return events.map((e) =>
      e.type === 'ended'
        ? withUsage(e, status, memMb, this.takeUsage(e.attemptId, e.at) ?? executorMeasured(status))
        : e,
    );
  }
}

/**
 * The peaks galley-executor measured for its task and sent in the terminal update's `data`: how a
 * run under a shared executor is measured, where the agent reports only the executor as a whole.
 */
export function executorMeasured(status: TaskStatus): AttemptUsage | undefined {
  const u = decodeTaskUsage(status.data);
  if (u === undefined || (u.max_rss_bytes === null && u.max_cpu_millicores === null)) return undefined;
  return {
    maxMemoryMb: u.max_rss_bytes === null ? null : Math.round(u.max_rss_bytes / (1024 * 1024)),
    maxCpuMillicores: u.max_cpu_millicores,
  };
}
