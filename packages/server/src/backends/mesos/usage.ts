import type { TaskStatus } from '@galley/mesos';
import type { AttemptUsage, BackendEvent } from '../backend.js';

/**
 * What a Mesos task used and what befell it, in a run's words (pure; `usage-poller.ts` does the
 * I/O): the agent's `/monitor/statistics` entries (Mesos' `ResourceStatistics`: `mem_rss_bytes`,
 * `cpus_user_time_secs` + `cpus_system_time_secs` at `timestamp`) become samples of the attempt
 * whose command executor they describe (executor id = task id = attempt id), and an out-of-memory
 * kill — TASK_FAILED, REASON_CONTAINER_LIMITATION_MEMORY, with the cgroups/mem isolator's message
 * "Memory limit exceeded: Requested: 96MB Maximum Used: 96MB …" — ends the run with the same words
 * as the local backend: exit reason "out of memory (limit N MB)" (N = the run's memory) and a
 * `run_exceptions` entry.
 */

/** One executor's figures from `/monitor/statistics`. Bytes; CPU seconds; `at` in ms since the epoch. */
export interface ExecutorSample {
  executorId: string;
  frameworkId: string;
  memoryBytes: number | null;
  cpuNs: number | null;
  at: number;
}

const MEMORY_REASON = 'REASON_CONTAINER_LIMITATION_MEMORY';

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

/**
 * The entries of a `/monitor/statistics` answer (a JSON array); entries without an executor id or
 * statistics are left out. `now` stands in for a missing `timestamp`.
 */
export function parseStatistics(body: unknown, now: number): ExecutorSample[] {
  if (!Array.isArray(body)) return [];
  const out: ExecutorSample[] = [];
  for (const entry of body as unknown[]) {
    if (entry === null || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    const s = e['statistics'];
    if (typeof e['executor_id'] !== 'string' || s === null || typeof s !== 'object') continue;
    const stats = s as Record<string, unknown>;
    const user = num(stats['cpus_user_time_secs']);
    const system = num(stats['cpus_system_time_secs']);
    const timestamp = num(stats['timestamp']);
    out.push({
      executorId: e['executor_id'],
      frameworkId: typeof e['framework_id'] === 'string' ? e['framework_id'] : '',
      memoryBytes: num(stats['mem_rss_bytes']),
      cpuNs: user === null && system === null ? null : Math.round(((user ?? 0) + (system ?? 0)) * 1e9),
      at: timestamp === null ? now : Math.round(timestamp * 1000),
    });
  }
  return out;
}

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** A size as stout prints `Bytes` (`96MB`, `65532KB`, `100B`) in bytes; null when it is not one. */
export function parseStoutBytes(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(B|KB|MB|GB|TB)$/.exec(text.trim());
  return m ? Math.round(Number(m[1]) * UNITS[m[2]!]!) : null;
}

/** The limit and peak an OOM message of the cgroups/mem isolator names, in bytes (null = not said). */
export function memoryLimitation(message: string | undefined): {
  requested: number | null;
  maxUsed: number | null;
} {
  const requested = /Requested: (\S+)/.exec(message ?? '');
  const maxUsed = /Maximum Used: (\S+)/.exec(message ?? '');
  return {
    requested: requested ? parseStoutBytes(requested[1]!) : null,
    maxUsed: maxUsed ? parseStoutBytes(maxUsed[1]!) : null,
  };
}

/** True for the update of a task Mesos killed at its memory limit. */
export function isMemoryLimitation(status: TaskStatus): boolean {
  return status.state === 'TASK_FAILED' && status.reason === MEMORY_REASON;
}

const MB = 1024 * 1024;

/**
 * The usage an attempt's end brings: its measured peaks (`measured`), and for an OOM kill the
 * outcome in Galley's words and the run exception. `memMb` is the run's memory (null when unknown:
 * then the limit the agent's message names). Answers the event unchanged when there is nothing to add.
 */
export function withUsage(
  event: Extract<BackendEvent, { type: 'ended' }>,
  status: TaskStatus,
  memMb: number | null,
  measured: AttemptUsage | undefined,
): Extract<BackendEvent, { type: 'ended' }> {
  if (!isMemoryLimitation(status)) return measured ? { ...event, usage: measured } : event;
  const said = memoryLimitation(status.message);
  const limitMb = memMb ?? (said.requested === null ? null : Math.round(said.requested / MB));
  const peaks = [measured?.maxMemoryMb ?? null, said.maxUsed === null ? null : Math.round(said.maxUsed / MB)];
  const known = peaks.filter((p): p is number => p !== null);
  const peak = known.length > 0 ? Math.max(...known) : null;
  const limit = limitMb === null ? '' : ` (limit ${limitMb} MB)`;
  const agentSaid = (status.message ?? '').split('\n')[0]!.trim();
  const exception =
    `out of memory: the kernel killed it at its memory limit${limitMb === null ? '' : ` of ${limitMb} MB`}` +
    `${peak === null ? '' : ` (peak ${peak} MB)`}${agentSaid ? `; the agent said: ${agentSaid}` : ''}`;
  return {
    ...event,
    outcome: { kind: 'killed', message: `out of memory${limit}` },
    usage: {
      maxMemoryMb: peak,
      maxCpuMillicores: measured?.maxCpuMillicores ?? null,
      exceptions: [exception],
    },
  };
}
