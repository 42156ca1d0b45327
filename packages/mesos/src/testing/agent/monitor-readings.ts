import type { Dirent } from 'node:fs';
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the agent's `/monitor/statistics` reports of one executor, read as Mesos' isolators read
 * it: a container's cgroup (the cgroups/mem and cgroups/cpu isolators: `memory.stat`'s rss and
 * cache, `memory.usage_in_bytes`, `cpuacct.stat`'s user and system time), or a host process tree
 * from /proc (the posix isolators: the rss and CPU times of the executor's processes).
 */

/** `ResourceStatistics` (the fields the fake fills). Bytes and seconds. */
export interface ResourceStatistics {
  timestamp: number;
  processes?: number;
  cpus_user_time_secs?: number;
  cpus_system_time_secs?: number;
  cpus_limit?: number;
  mem_rss_bytes?: number;
  mem_total_bytes?: number;
  mem_cache_bytes?: number;
  mem_mapped_file_bytes?: number;
  mem_limit_bytes?: number;
}

/** Clock ticks per second of /proc and cpuacct.stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;
const PAGE_SIZE = 4096;

type Layout = { version: 1; memory: string | null; cpuacct: string | null } | { version: 2; root: string };

let layout: Promise<Layout | null> | null = null;

/** The machine's cgroup mounts (read once). */
function cgroupLayout(): Promise<Layout | null> {
  layout ??= readFile('/proc/mounts', 'utf8').then(
    (mounts) => {
      let v2: string | null = null;
      let memory: string | null = null;
      let cpuacct: string | null = null;
      for (const line of mounts.split('\n')) {
        const [, dir, type, options = ''] = line.split(' ');
        if (dir === undefined) continue;
        if (type === 'cgroup2') v2 ??= dir;
        if (type !== 'cgroup') continue;
        if (options.split(',').includes('memory')) memory ??= dir;
        if (options.split(',').includes('cpuacct')) cpuacct ??= dir;
      }
      if (memory !== null || cpuacct !== null) return { version: 1, memory, cpuacct } as const;
      return v2 === null ? null : ({ version: 2, root: v2 } as const);
    },
    () => null,
  );
  return layout;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** `key value` lines (memory.stat, cpuacct.stat, cpu.stat) as numbers. */
export function parseKeyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && Number.isFinite(Number(value))) out.set(key, Number(value));
  }
  return out;
}

async function readNumber(path: string): Promise<number | undefined> {
  const text = await readText(path);
  const n = Number(text?.trim());
  return text !== undefined && Number.isFinite(n) ? n : undefined;
}

/** A cgroup's figures (`path` relative to each hierarchy's root); undefined when it is gone. */
export async function readCgroupStatistics(
  path: string,
): Promise<Omit<ResourceStatistics, 'timestamp'> | undefined> {
  const l = await cgroupLayout();
  if (l === null) return undefined;
  if (l.version === 1) {
    if (l.memory === null) return undefined;
    const stat = await readText(join(l.memory, path, 'memory.stat'));
    if (stat === undefined) return undefined;
    const mem = parseKeyed(stat);
    const cpu =
      l.cpuacct === null
        ? new Map<string, number>()
        : parseKeyed(await readText(join(l.cpuacct, path, 'cpuacct.stat')));
    return {
      ...cpuTimes(cpu.get('user'), cpu.get('system'), USER_HZ),
      mem_rss_bytes: mem.get('total_rss') ?? mem.get('rss') ?? 0,
      mem_cache_bytes: mem.get('total_cache') ?? mem.get('cache') ?? 0,
      mem_mapped_file_bytes: mem.get('total_mapped_file') ?? mem.get('mapped_file') ?? 0,
      mem_total_bytes: (await readNumber(join(l.memory, path, 'memory.usage_in_bytes'))) ?? 0,
    };
  }
  const dir = join(l.root, path);
  const stat = await readText(join(dir, 'memory.stat'));
  if (stat === undefined) return undefined;
  const mem = parseKeyed(stat);
  const cpu = parseKeyed(await readText(join(dir, 'cpu.stat')));
  return {
    ...cpuTimes(cpu.get('user_usec'), cpu.get('system_usec'), 1e6),
    mem_rss_bytes: mem.get('anon') ?? 0,
    mem_cache_bytes: mem.get('file') ?? 0,
    mem_mapped_file_bytes: mem.get('file_mapped') ?? 0,
    mem_total_bytes: (await readNumber(join(dir, 'memory.current'))) ?? 0,
  };
}

/** The highest memory a cgroup used (v1 `memory.max_usage_in_bytes`, v2 `memory.peak`); undefined if unknown. */
export async function cgroupMemoryPeak(path: string): Promise<number | undefined> {
  const l = await cgroupLayout();
  if (l?.version === 1)
    return l.memory === null ? undefined : readNumber(join(l.memory, path, 'memory.max_usage_in_bytes'));
  return l?.version === 2 ? readNumber(join(l.root, path, 'memory.peak')) : undefined;
}

/** A cgroup's `memory.stat`, for the OOM message as Mesos writes it; '' when unreadable. */
export async function cgroupMemoryStat(path: string): Promise<string> {
  const l = await cgroupLayout();
  if (l?.version === 1 && l.memory !== null)
    return (await readText(join(l.memory, path, 'memory.stat'))) ?? '';
  return l?.version === 2 ? ((await readText(join(l.root, path, 'memory.stat'))) ?? '') : '';
}

function cpuTimes(user: number | undefined, system: number | undefined, perSecond: number) {
  return {
    cpus_user_time_secs: Math.round(((user ?? 0) / perSecond) * 1000) / 1000,
    cpus_system_time_secs: Math.round(((system ?? 0) / perSecond) * 1000) / 1000,
  };
}

/**
 * The processes of one process group (a host task's: its leader `pgid`), summed from
 * `/proc/<pid>/stat`: utime, stime (ticks) and rss (pages); undefined when none is left.
 */
export async function readProcessGroupStatistics(
  pgid: number,
): Promise<Omit<ResourceStatistics, 'timestamp'> | undefined> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  let processes = 0;
  let user = 0;
  let system = 0;
  let rss = 0;
  for (const pid of pids) {
    const fields = parseProcStat(await readText(`/proc/${pid}/stat`));
    if (fields === undefined || fields.pgrp !== pgid) continue;
    processes++;
    user += fields.utime;
    system += fields.stime;
    rss += fields.rssPages * PAGE_SIZE;
  }
  if (processes === 0) return undefined;
  return { processes, ...cpuTimes(user, system, USER_HZ), mem_rss_bytes: rss, mem_total_bytes: rss };
}

/** The fields of a `/proc/<pid>/stat` line the statistics need; undefined when unreadable. */
export function parseProcStat(
  text: string | undefined,
): { pgrp: number; utime: number; stime: number; rssPages: number } | undefined {
  if (text === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): field n is rest[n - 3].
  const field = (n: number): number => Number(rest[n - 3]);
  const out = { pgrp: field(5), utime: field(14), stime: field(15), rssPages: field(24) };
  return Object.values(out).every(Number.isFinite) ? out : undefined;
}

/**
 * Removes the cgroup `path` and what is left below it from every hierarchy it is in (a
 * container's parent cgroup, once the container is gone); a cgroup still in use stays.
 */
export async function removeCgroupTree(path: string): Promise<void> {
  const mounts = (await readText('/proc/mounts')) ?? '';
  const roots = mounts
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([, , type]) => type === 'cgroup' || type === 'cgroup2')
    .map(([, dir]) => dir ?? '');
  const remove = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) await remove(join(dir, e.name));
    await rmdir(dir).catch(() => undefined);
  };
  for (const root of new Set(roots)) if (root !== '') await remove(join(root, path));
}
