/**
 * What each task of galley-executor used, measured by the executor itself. An agent's
 * `/monitor/statistics` reports an executor's container as a whole, so under a shared executor
 * (many tasks in one container) it cannot tell one task's memory from another's. The executor
 * knows each task's process group: it samples the groups from /proc every second — resident
 * memory summed over the group, CPU time including reaped children — and sends each task's peaks
 * with its terminal update, in `TaskStatus.data`, which Mesos hands to the scheduler untouched:
 * base64 of `{"galley_usage":{"max_rss_bytes":N,"max_cpu_millicores":N}}`. A peak between two
 * samples is missed, as with the agent's own figures.
 */
import { readdir, readFile } from 'node:fs/promises';

/** A task's peaks; null = never measured (it ended before the first sample could read it). */
export interface TaskUsage {
  max_rss_bytes: number | null;
  max_cpu_millicores: number | null;
}

/** The key of the usage object in a terminal update's `data`. */
export const TASK_USAGE_KEY = 'galley_usage';

/** `TaskStatus.data` carrying a task's usage (base64 JSON). */
export function encodeTaskUsage(usage: TaskUsage): string {
  return Buffer.from(JSON.stringify({ [TASK_USAGE_KEY]: usage })).toString('base64');
}

/** The usage in a terminal update's `data`, or undefined when it carries none (another executor). */
export function decodeTaskUsage(data: string | undefined): TaskUsage | undefined {
  if (data === undefined || data === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as Record<string, unknown>;
    const u = parsed?.[TASK_USAGE_KEY] as Record<string, unknown> | undefined;
    if (u === undefined || u === null || typeof u !== 'object') return undefined;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
    return { max_rss_bytes: num(u['max_rss_bytes']), max_cpu_millicores: num(u['max_cpu_millicores']) };
  } catch {
    return undefined;
  }
}

/** One process's figures from `/proc/<pid>/stat`. */
export interface ProcStat {
  pgrp: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  cpuTicks: number;
  rssPages: number;
}

/** Parses `/proc/<pid>/stat` (the command name may hold spaces and parentheses: read after the last `)`). */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // Fields from 3 (state) on; field N is at index N - 3.
  const f = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const at = (n: number) => Number(f[n - 3]);
  const stat = { pgrp: at(5), cpuTicks: at(14) + at(15) + at(16) + at(17), rssPages: at(24) };
  return Object.values(stat).every(Number.isFinite) ? stat : undefined;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux everywhere that matters). */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;
/** The shortest interval a CPU rate is computed over: shorter ones are noise at 100 ticks a second. */
const MIN_RATE_INTERVAL_MS = 500;

interface Tracked {
  startedAt: number;
  peakRss: number | null;
  peakMillicores: number | null;
  last: { ticks: number; at: number } | null;
}

/** Samples the process groups of running tasks (the group id is the task's pid: it leads its group). */
export class TaskUsageSampler {
  private readonly tasks = new Map<number, Tracked>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private sampling = false;

  constructor(
    private readonly intervalMs = 1_000,
    private readonly now: () => number = Date.now,
    private readonly proc = '/proc',
  ) {}

  /** Starts measuring the group led by `pid`. */
  track(pid: number): void {
    this.tasks.set(pid, { startedAt: this.now(), peakRss: null, peakMillicores: null, last: null });
    if (this.timer === undefined) {
      this.timer = setInterval(() => void this.sample(), this.intervalMs);
      this.timer.unref();
    }
    void this.sample();
  }

  /** Stops measuring the group led by `pid` and answers its peaks. */
  untrack(pid: number): TaskUsage {
    const t = this.tasks.get(pid);
    this.tasks.delete(pid);
    if (this.tasks.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    if (t === undefined) return { max_rss_bytes: null, max_cpu_millicores: null };
    let cpu = t.peakMillicores;
    // Too short for a rate between two samples: its average since it started.
    if (cpu === null && t.last !== null) {
      const seconds = Math.max(this.now() - t.startedAt, 1) / 1000;
      cpu = Math.round((t.last.ticks / TICKS_PER_SECOND / seconds) * 1000);
    }
    return { max_rss_bytes: t.peakRss, max_cpu_millicores: cpu };
  }

  /** One reading of every process in /proc, summed by the tracked groups. */
  async sample(): Promise<void> {
    if (this.sampling || this.tasks.size === 0) return;
    this.sampling = true;
    try {
      const sums = new Map<number, { ticks: number; rss: number }>();
      const pids = (await readdir(this.proc).catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
      await Promise.all(
        pids.map(async (pid) => {
          const text = await readFile(`${this.proc}/${pid}/stat`, 'utf8').catch(() => undefined);
          const stat = text === undefined ? undefined : parseProcStat(text);
          if (stat === undefined || !this.tasks.has(stat.pgrp)) return;
          const s = sums.get(stat.pgrp) ?? { ticks: 0, rss: 0 };
          s.ticks += stat.cpuTicks;
          s.rss += stat.rssPages * PAGE_BYTES;
          sums.set(stat.pgrp, s);
        }),
      );
      const at = this.now();
      for (const [pgrp, s] of sums) {
        const t = this.tasks.get(pgrp);
        if (t === undefined) continue;
        t.peakRss = Math.max(t.peakRss ?? 0, s.rss);
        if (t.last !== null && at - t.last.at >= MIN_RATE_INTERVAL_MS) {
          const rate = Math.max(0, s.ticks - t.last.ticks) / TICKS_PER_SECOND / ((at - t.last.at) / 1000);
          t.peakMillicores = Math.max(t.peakMillicores ?? 0, Math.round(rate * 1000));
          t.last = { ticks: s.ticks, at };
        }
        t.last ??= { ticks: s.ticks, at };
      }
    } finally {
      this.sampling = false;
    }
  }
}
