import { createHash } from 'node:crypto';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerName, MIN_MEMORY_MB } from './container-runtime.js';
import { readNumberFile, readSmallFile } from './kernel-files.js';
import { cgroupLayout, readCgroupIn, type UsageSample } from './usage.js';

/**
 * A host process's own cgroup: in host mode nothing else holds a job to its memory limit, so where
 * the server may create cgroups (root, a writable cgroupfs), each supervised host process runs in
 * `/galley/host/<data dir>/<id>` with the definition's memory limit (cgroup v1
 * `memory.limit_in_bytes`, v2 `memory.max`) and CPU quota (v1 `cpu.cfs_quota_us`, v2 `cpu.max`).
 * The kernel then OOM-kills inside it, counts the kill (v2 `memory.events`, v1
 * `memory.oom_control`) and keeps the peak (`memory.max_usage_in_bytes`, `memory.peak`), all
 * readable after the process ended, and after a server restart. The data directory's own level
 * keeps two servers on one machine from sweeping each other's.
 */

/** The hierarchies host cgroups are made in (absolute directories). */
export type HostCgroupRoots =
  | { version: 1; memory: string; cpu: string | null; cpuacct: string | null }
  | { version: 2; root: string; cpu: boolean };

/** Whether a limit holds in host mode, and how or why not (`GET /clusters`, the start-up line). */
export interface LimitHolds {
  enforced: boolean;
  how: string;
}

/** What host mode enforces here. */
export interface HostLimits {
  memory: LimitHolds;
  cpu: LimitHolds;
}

/** What the server keeps of a host process's cgroup (in its directory, file `cgroup`). */
export interface HostCgroupRecord {
  path: string;
  memMb: number;
}

/** The file of a host process's directory that names its cgroup. */
export const HOST_CGROUP_FILE = 'cgroup';

/** What the kernel kept of a host cgroup. */
export interface HostCgroupReading {
  /** OOM kills in it; null when the kernel does not count them (old v1). */
  oomKills: number | null;
  /** Times its memory limit was hit (v1 `memory.failcnt`, v2 `max` of memory.events). */
  limitHits: number | null;
  peakBytes: number | null;
}

/** A host cgroup's reading at its process's end: the memory peak and CPU time, and OOM kills when asked. */
export interface HostCgroupEnd extends HostCgroupReading {
  usage: UsageSample;
}

export class HostCgroups {
  /** The cgroup of this server's data directory: `/galley/host/d-<hash>`. */
  readonly base: string;
  /** Host cgroups made here and not removed yet: the data directory's level goes when none is left. */
  private readonly made = new Set<string>();
  /** v2: the controllers are enabled down to the data directory's level (until it is removed). */
  private enabled = false;
  /** v1: whether `memory.memsw.limit_in_bytes` exists (swap accounting); unknown until tried. */
  private memsw: boolean | null = null;

  constructor(
    readonly roots: HostCgroupRoots,
    dataDir: string,
  ) {
    this.base = `/galley/host/d-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;
  }

  /** The cgroup of process `id`. */
  pathOf(id: string): string {
    return `${this.base}/${containerName(id)}`;
  }

  /**
   * Makes the cgroup of `id` with its limits (memory in MB, at least MIN_MEMORY_MB as for
   * containers, 0 = none; CPUs, 0 = none); answers its record and the `cgroup.procs` files the
   * process is written to (one per hierarchy). The cgroupfs calls are synchronous: they are
   * in-memory kernel operations, cheaper than a promise and a thread-pool trip each, and this runs
   * for every run attempt.
   */
  async create(
    id: string,
    memMb: number,
    cpus: number,
  ): Promise<{ record: HostCgroupRecord; procs: string[] }> {
    await Promise.resolve();
    try {
      return this.createOnce(id, memMb, cpus);
    } catch (err) {
      // The data directory's level went away under it (removed once empty, see `remove`): again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.enabled = false;
      return this.createOnce(id, memMb, cpus);
    }
  }

  private createOnce(id: string, memMb: number, cpus: number): { record: HostCgroupRecord; procs: string[] } {
    const path = this.pathOf(id);
    const r = this.roots;
    const bytes = memMb > 0 ? Math.max(MIN_MEMORY_MB, Math.ceil(memMb)) * 1024 * 1024 : 0;
    if (r.version === 2) {
      if (!this.enabled) this.enableV2(path);
      const dir = join(r.root, path);
      makeDir(dir);
      this.made.add(path);
      if (bytes > 0) {
        writeFileSync(join(dir, 'memory.max'), String(bytes));
        try {
          writeFileSync(join(dir, 'memory.swap.max'), '0');
        } catch {
          // No swap controller: nothing to hold.
        }
      }
      if (cpus > 0 && r.cpu) writeFileSync(join(dir, 'cpu.max'), `${quotaUs(cpus)} ${PERIOD_US}`);
      return { record: { path, memMb }, procs: [join(dir, 'cgroup.procs')] };
    }
    const memory = join(r.memory, path);
    makeDir(memory);
    this.made.add(path);
    if (bytes > 0) {
      writeFileSync(join(memory, 'memory.limit_in_bytes'), String(bytes));
      // With swap accounting, swap counts too (the limit is memory + swap); absent without it.
      if (this.memsw !== false)
        try {
          writeFileSync(join(memory, 'memory.memsw.limit_in_bytes'), String(bytes));
          this.memsw = true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.memsw = false;
        }
    }
    const procs = [join(memory, 'cgroup.procs')];
    for (const root of new Set([r.cpu, r.cpuacct])) {
      if (!root || root === r.memory) continue;
      const dir = join(root, path);
      makeDir(dir);
      // A new cgroup's CFS period is the kernel's default, PERIOD_US: only the quota is written.
      if (root === r.cpu && cpus > 0) writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quotaUs(cpus)));
      procs.push(join(dir, 'cgroup.procs'));
    }
    return { record: { path, memMb }, procs };
  }

  /** What the kernel kept of the cgroup `path`: OOM kills, limit hits, the memory peak. */
  async read(path: string): Promise<HostCgroupReading> {
    await Promise.resolve();
    const { usage: _usage, ...reading } = this.readEnd(path, true, 0);
    return reading;
  }

  /**
   * The cgroup `path` read at its process's end: its memory peak and CPU time (`usage`, at `at`)
   * and, when `oom` (only an end other than a clean exit can be an OOM kill), its OOM kills and
   * limit hits (v1 `memory.failcnt` only where the kernel does not count OOM kills); null where
   * not read. Synchronous, as `create`.
   */
  readEnd(path: string, oom: boolean, at: number): HostCgroupEnd {
    const r = this.roots;
    const usage = readCgroupIn(r, path, at);
    if (!oom) return { oomKills: null, limitHits: null, peakBytes: usage.memoryBytes, usage };
    if (r.version === 2) {
      const events = readSmallFile(join(r.root, path, 'memory.events')) ?? '';
      return {
        oomKills: field(events, 'oom_kill'),
        limitHits: field(events, 'max'),
        peakBytes: usage.memoryBytes,
        usage,
      };
    }
    const dir = join(r.memory, path);
    const oomKills = field(readSmallFile(join(dir, 'memory.oom_control')) ?? '', 'oom_kill');
    return {
      oomKills,
      limitHits: oomKills === null ? readNumberFile(join(dir, 'memory.failcnt')) : null,
      peakBytes: usage.memoryBytes,
      usage,
    };
  }

  /** Removes the cgroup `path` from every hierarchy; false while a process is still in it. */
  async remove(path: string): Promise<boolean> {
    await Promise.resolve();
    if (!path.startsWith(`${this.base}/`)) return false;
    let all = true;
    for (const root of this.rootDirs()) {
      try {
        rmdirSync(join(root, path));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') all = false;
      }
    }
    if (all) this.made.delete(path);
    // The data directory's level too once none of ours is left in it (it fails while another is).
    if (this.made.size === 0) {
      for (const root of this.rootDirs())
        try {
          rmdirSync(join(root, this.base));
          this.enabled = false;
        } catch {
          // Still in use (another cgroup in it), or gone already.
        }
    }
    return all;
  }

  /** Whether this server made the cgroup `path` and has not removed it (so it is no leftover). */
  madeHere(path: string): boolean {
    return this.made.has(path);
  }

  /** This data directory's host cgroups that hold no process (left by a server that died). */
  async empty(): Promise<string[]> {
    const root = this.roots.version === 2 ? this.roots.root : this.roots.memory;
    const dir = join(root, this.base);
    const found: string[] = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const procs = await readFile(join(dir, name, 'cgroup.procs'), 'utf8').catch(() => null);
      if (procs !== null && procs.trim() === '') found.push(`${this.base}/${name}`);
    }
    return found;
  }

  private rootDirs(): string[] {
    const r = this.roots;
    if (r.version === 2) return [r.root];
    return [...new Set([r.memory, r.cpu, r.cpuacct])].filter((d): d is string => d !== null);
  }

  /** v2: the memory (and cpu) controllers enabled down to the parent of `path`. */
  private enableV2(path: string): void {
    const r = this.roots;
    if (r.version !== 2) return;
    const want = r.cpu ? '+memory +cpu' : '+memory';
    const parts = path.split('/').filter(Boolean).slice(0, -1);
    let dir = r.root;
    for (const part of ['', ...parts]) {
      dir = join(dir, part);
      makeDir(dir);
      const enabled = (readSmallFile(join(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/);
      if (!enabled.includes('memory') || (r.cpu && !enabled.includes('cpu')))
        writeFileSync(join(dir, 'cgroup.subtree_control'), want);
    }
    this.enabled = true;
  }
}

/** mkdir -p, trying the directory itself first (its parents are there but for the first time). */
function makeDir(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT') throw err;
    mkdirSync(dir, { recursive: true });
  }
}

/** The CFS period of a CPU quota (µs), as Docker uses. */
const PERIOD_US = 100_000;

function quotaUs(cpus: number): number {
  return Math.max(1_000, Math.round(cpus * PERIOD_US));
}

function field(text: string, name: string): number | null {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/** Where host cgroups can go on this machine; null with the reason when nowhere. */
export async function hostCgroupRoots(): Promise<{ roots: HostCgroupRoots } | { roots: null; why: string }> {
  const l = await cgroupLayout();
  if (l.version === 1) {
    if (!l.memory) return { roots: null, why: 'this host has cgroup v1 without the memory controller' };
    return { roots: { version: 1, memory: l.memory, cpu: l.cpu, cpuacct: l.cpuacct } };
  }
  if (l.version === 2) {
    const controllers = (await readFile(join(l.root, 'cgroup.controllers'), 'utf8').catch(() => '')).split(
      /\s+/,
    );
    if (!controllers.includes('memory'))
      return { roots: null, why: 'the cgroup v2 hierarchy here does not offer the memory controller' };
    return { roots: { version: 2, root: l.root, cpu: controllers.includes('cpu') } };
  }
  return { roots: null, why: 'no cgroup filesystem is mounted' };
}

/**
 * Whether host cgroups work here for this data directory: a probe cgroup is made with a memory
 * limit and a CPU quota, then removed. Answers the cgroups (null when they cannot be made) and
 * what holds, with the reason.
 */
export async function probeHostCgroups(
  dataDir: string,
  given?: HostCgroupRoots,
): Promise<{ cgroups: HostCgroups | null; limits: HostLimits }> {
  const found = given ? { roots: given } : await hostCgroupRoots();
  const notEnforced = (why: string) => ({
    cgroups: null,
    limits: {
      memory: { enforced: false, how: `accounted, not enforced: ${why}` },
      cpu: { enforced: false, how: `not enforced: ${why}` },
    },
  });
  if (!found.roots) return notEnforced(found.why);
  const cgroups = new HostCgroups(found.roots, dataDir);
  const id = `probe-${process.pid}`;
  let cpu: LimitHolds;
  try {
    await cgroups.create(id, 64, 0);
    const version = found.roots.version;
    try {
      await cgroups.create(id, 64, 0.5);
      cpu = {
        enforced: true,
        how: `a CPU quota per run attempt and per pipeline process (cgroup v${version} ${version === 2 ? 'cpu.max' : 'cpu.cfs_quota_us'})`,
      };
    } catch (err) {
      cpu = { enforced: false, how: `not enforced: ${errorWords(err)}` };
    }
    if (version === 1 && !found.roots.cpu)
      cpu = { enforced: false, how: 'not enforced: no cpu controller is mounted' };
    if (version === 2 && !found.roots.cpu)
      cpu = { enforced: false, how: 'not enforced: cgroup v2 offers no cpu controller here' };
  } catch (err) {
    await cgroups.remove(cgroups.pathOf(id)).catch(() => undefined);
    return notEnforced(errorWords(err));
  }
  await cgroups.remove(cgroups.pathOf(id));
  const file = found.roots.version === 2 ? 'memory.max' : 'memory.limit_in_bytes';
  return {
    cgroups,
    limits: {
      memory: {
        enforced: true,
        how: `a memory cgroup per run attempt and per pipeline process (cgroup v${found.roots.version} ${file}); an out-of-memory kill ends the run, or fails the process, saying so`,
      },
      cpu,
    },
  };
}

/** An error of the cgroup filesystem in a person's words. */
function errorWords(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const where = e.path ? ` (${e.path})` : '';
  if (e.code === 'EACCES' || e.code === 'EPERM')
    return `the server may not create cgroups there${where}${process.getuid?.() === 0 ? '' : ' (it does not run as root)'}`;
  if (e.code === 'EROFS') return `the cgroup filesystem is read-only${where}`;
  return `${e.code ?? 'error'}: ${e.message}`;
}
