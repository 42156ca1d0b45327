import type { Dirent } from 'node:fs';
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readNumberFile, readSmallFile } from './kernel-files.js';
import type { ProcEntry } from './proc.js';

/**
 * What a supervised process used, for a run's `max_memory_used` (MB) and `max_cpu_used`
 * (millicores): read from its container's cgroup (a watermark the kernel keeps, so nothing is
 * missed between samples), or, on the host, summed over its session's processes from /proc at
 * each sample (as well as it can be read: a peak between two samples is missed).
 */

/** Peak memory and CPU; null = never measured. */
export interface Usage {
  maxMemoryMb: number | null;
  maxCpuMillicores: number | null;
}

/** One reading: memory in bytes (a peak when the source keeps one), CPU time in ns so far, at ms. */
export interface UsageSample {
  memoryBytes: number | null;
  cpuNs: number | null;
  at: number;
}

/** The shortest interval a CPU rate is computed over: shorter ones are noise. */
const MIN_RATE_INTERVAL_MS = 500;

/** The peaks of one process's samples. */
export class UsageMeter {
  private peak: number | null = null;
  private peakMillicores: number | null = null;
  private first: { cpuNs: number; at: number } | null = null;
  private last: { cpuNs: number; at: number } | null = null;

  /** The highest memory seen, in bytes; null when never measured. */
  get peakBytes(): number | null {
    return this.peak;
  }

  observe(sample: UsageSample): void {
    if (sample.memoryBytes !== null) this.peak = Math.max(this.peak ?? 0, sample.memoryBytes);
    if (sample.cpuNs === null) return;
    const now = { cpuNs: sample.cpuNs, at: sample.at };
    this.first ??= now;
    if (this.last && now.at - this.last.at >= MIN_RATE_INTERVAL_MS) {
      this.raiseCpu(this.last, now);
      this.last = now;
    }
    this.last ??= now;
  }

  /** The peaks; a process too short for a rate gets its average CPU since `startedAt`. */
  usage(startedAt: number | null, endedAt: number): Usage {
    if (this.peakMillicores === null && this.last && startedAt !== null)
      this.raiseCpu(
        { cpuNs: 0, at: startedAt },
        { cpuNs: this.last.cpuNs, at: Math.max(endedAt, this.last.at) },
      );
    return {
      maxMemoryMb: this.peak === null ? null : Math.round(this.peak / (1024 * 1024)),
      maxCpuMillicores: this.peakMillicores,
    };
  }

  private raiseCpu(from: { cpuNs: number; at: number }, to: { cpuNs: number; at: number }): void {
    const ms = to.at - from.at;
    if (ms <= 0 || to.cpuNs < from.cpuNs) return;
    const millicores = Math.round(((to.cpuNs - from.cpuNs) / 1e6 / ms) * 1000);
    this.peakMillicores = Math.max(this.peakMillicores ?? 0, millicores);
  }
}

// ---- cgroups ----

/** Where the cgroup hierarchies are mounted: v2 (unified) or v1 (one per controller). */
export type CgroupLayout =
  | { version: 2; root: string }
  | { version: 1; memory: string | null; cpuacct: string | null; cpu: string | null }
  | { version: 0 };

let layout: Promise<CgroupLayout> | null = null;

/** This machine's cgroup layout, from /proc/mounts (read once). */
export function cgroupLayout(): Promise<CgroupLayout> {
  layout ??= (async () => {
    let mounts: string;
    try {
      mounts = await readFile('/proc/mounts', 'utf8');
    } catch {
      return { version: 0 } as const;
    }
    let v2: string | null = null;
    let memory: string | null = null;
    let cpuacct: string | null = null;
    let cpu: string | null = null;
    for (const line of mounts.split('\n')) {
      const [, dir, type, options] = line.split(' ');
      if (!dir || !options) continue;
      if (type === 'cgroup2') v2 ??= dir;
      if (type !== 'cgroup') continue;
      const opts = options.split(',');
      if (opts.includes('memory')) memory ??= dir;
      if (opts.includes('cpuacct')) cpuacct ??= dir;
      if (opts.includes('cpu')) cpu ??= dir;
    }
    if (memory || cpuacct) return { version: 1, memory, cpuacct, cpu } as const;
    if (v2) return { version: 2, root: v2 } as const;
    return { version: 0 } as const;
  })();
  return layout;
}

/** `usage_usec` of a v2 cpu.stat, in ns. */
function readCpuStat(path: string): number | null {
  const m = /^usage_usec (\d+)$/m.exec(readSmallFile(path) ?? '');
  return m ? Number(m[1]) * 1000 : null;
}

/**
 * A reading of the cgroup at `path` (relative to each hierarchy's root, `/galley/x`): its memory
 * peak (v1 `memory.max_usage_in_bytes`; v2 `memory.peak`, else `memory.current`) and its CPU time
 * (v1 `cpuacct.usage`, v2 `cpu.stat`). Nulls where the files are not there.
 */
export async function readCgroup(path: string, at: number): Promise<UsageSample> {
  const l = await cgroupLayout();
  return l.version === 0 ? { memoryBytes: null, cpuNs: null, at } : readCgroupIn(l, path, at);
}

/** Where a cgroup's memory and CPU-time files are: v1's memory and cpuacct hierarchies, or v2's root. */
export type CgroupFiles =
  { version: 1; memory: string | null; cpuacct: string | null } | { version: 2; root: string };

/** readCgroup in given hierarchies (synchronous: a handful of small in-memory files). */
export function readCgroupIn(where: CgroupFiles, path: string, at: number): UsageSample {
  if (where.version === 2) {
    const dir = join(where.root, path);
    return {
      memoryBytes: readNumberFile(join(dir, 'memory.peak')) ?? readNumberFile(join(dir, 'memory.current')),
      cpuNs: readCpuStat(join(dir, 'cpu.stat')),
      at,
    };
  }
  return {
    memoryBytes: where.memory ? readNumberFile(join(where.memory, path, 'memory.max_usage_in_bytes')) : null,
    cpuNs: where.cpuacct ? readNumberFile(join(where.cpuacct, path, 'cpuacct.usage')) : null,
    at,
  };
}

/** The cgroup of process `pid` that holds its memory accounting (v1: the memory hierarchy's path). */
export async function cgroupOf(pid: number): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return null;
  }
  const l = await cgroupLayout();
  for (const line of text.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined || controllers === undefined) continue;
    if (l.version === 2 && controllers === '') return path;
    if (l.version === 1 && controllers.split(',').includes('memory')) return path;
  }
  return null;
}

/**
 * Removes the cgroup `path` (and what is left below it) from every hierarchy it is in; a cgroup
 * still in use stays (answers false then). Only Galley's own cgroups (`/galley/…`) are removed.
 */
export async function removeCgroup(path: string): Promise<boolean> {
  if (!path.startsWith('/galley/')) return false;
  const l = await cgroupLayout();
  const roots = l.version === 2 ? [l.root] : l.version === 1 ? await v1Roots() : ([] as string[]);
  let all = true;
  const remove = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') all = false;
      return;
    }
    for (const e of entries) if (e.isDirectory()) await remove(join(dir, e.name));
    try {
      await rmdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') all = false;
    }
  };
  for (const root of roots) await remove(join(root, path));
  return all;
}

/** The directory of the cgroup `path` in the hierarchy that holds its processes (v1: memory's). */
async function cgroupDir(path: string): Promise<string | null> {
  const l = await cgroupLayout();
  if (l.version === 2) return join(l.root, path);
  if (l.version === 1 && l.memory) return join(l.memory, path);
  return null;
}

/** Galley's container cgroups on this machine (`/galley/<name>`), whoever's they are. */
export async function galleyCgroups(): Promise<string[]> {
  const dir = await cgroupDir('/galley');
  if (!dir) return [];
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && e.name.startsWith('galley-'))
      .map((e) => `/galley/${e.name}`);
  } catch {
    return [];
  }
}

/** Whether no process is in the cgroup `path` or below it (unknown: false). */
export async function cgroupIsEmpty(path: string): Promise<boolean> {
  const dir = await cgroupDir(path);
  if (!dir) return false;
  const empty = async (d: string): Promise<boolean> => {
    try {
      if ((await readFile(join(d, 'cgroup.procs'), 'utf8')).trim() !== '') return false;
      for (const e of await readdir(d, { withFileTypes: true }))
        if (e.isDirectory() && !(await empty(join(d, e.name)))) return false;
      return true;
    } catch {
      return false;
    }
  };
  return empty(dir);
}

/** Every v1 hierarchy's mount point (podman makes its cgroups in each). */
async function v1Roots(): Promise<string[]> {
  try {
    return (await readFile('/proc/mounts', 'utf8'))
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => f[2] === 'cgroup' && f[1] !== undefined)
      .map((f) => f[1]!);
  } catch {
    return [];
  }
}

// ---- host processes ----

/** Bytes of a page and clock ticks per second on Linux (x86-64 and arm64). */
const PAGE_BYTES = 4096;
const TICK_NS = 1e9 / 100;

/**
 * A reading of a host process's session (the supervisor leads its own): the resident memory of
 * its processes summed, and their CPU time with that of the children they waited for.
 */
export function sessionSample(leader: number, procs: readonly ProcEntry[], at: number): UsageSample {
  let rss = 0;
  let ticks = 0;
  let found = false;
  for (const p of procs) {
    if (p.session !== leader) continue;
    found = true;
    rss += p.rssPages;
    ticks += p.cpuTicks;
  }
  return found
    ? { memoryBytes: rss * PAGE_BYTES, cpuNs: ticks * TICK_NS, at }
    : { memoryBytes: null, cpuNs: null, at };
}
