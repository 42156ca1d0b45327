import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { HOST_CGROUP_FILE, type HostCgroupRecord, type HostCgroups } from './host-cgroup.js';
import type { SpawnRequest } from './spawner.js';
import type { Supervised, SupervisedEnd } from './supervised-types.js';

/**
 * What the Supervisor does for a host process that runs in its own cgroup (host-cgroup.ts),
 * beyond what it does for every process: its end made complete from what the kernel kept — an
 * OOM kill at its memory limit, the exact memory peak — and the cgroup removed. Apart from the
 * container side (supervised-containers.ts) because here the kernel, not a runtime, is asked.
 */

/** A memory peak this close to the limit, with a SIGKILL and limit hits, is an OOM kill (old v1 kernels). */
const OOM_SHARE = 0.97;

export class SupervisedHostCgroups {
  /** Host cgroups whose end is being completed (not swept meanwhile). */
  private readonly completing = new Set<string>();

  constructor(
    private readonly cgroups: () => HostCgroups | null,
    private readonly logger: Logger,
  ) {}

  /**
   * The spawn of a host command in its own cgroup with its limits: the cgroup made, its record
   * written beside the output (so a restarted server finds it by the process's id), the
   * `cgroup.procs` files given to the spawner. A cgroup that cannot be made leaves the command
   * without one (it runs, accounted as before), said in the log.
   */
  async place(
    s: Supervised,
    cgroups: HostCgroups,
    request: SpawnRequest,
    limits: { memMb: number; cpus: number },
  ): Promise<SpawnRequest> {
    try {
      const { record, procs } = await cgroups.create(s.id, limits.memMb, limits.cpus);
      s.hostCgroup = record;
      s.cgroup = record.path;
      return {
        ...request,
        cgroup: procs,
        files: { ...request.files, [HOST_CGROUP_FILE]: `${JSON.stringify(record)}\n` },
      };
    } catch (err) {
      this.logger.warn(
        { err, id: s.id },
        'local backend: no cgroup for a host process; its memory is not enforced',
      );
      return request;
    }
  }

  /**
   * A host process's end made complete from its cgroup: the kernel's OOM kill (counted in it; an
   * end other than a clean exit after one is "out of memory"), its peak; then the cgroup removed
   * (its last processes may take a moment to go).
   */
  async complete(s: Supervised, end: SupervisedEnd): Promise<SupervisedEnd> {
    const record = s.hostCgroup!;
    const cgroups = this.cgroups();
    if (!cgroups) return { ...end, usage: s.meter.usage(s.startedAt, end.at ?? Date.now()) };
    this.completing.add(record.path);
    try {
      // Not placed in it (the spawner said so): it neither held the process nor measured it.
      const placed = s.cgroup === record.path;
      const clean = end.kind === 'exited' && end.code === 0;
      // A clean exit is no OOM kill: its peak and CPU time are all that is read then.
      const reading = placed
        ? cgroups.readEnd(record.path, record.memMb > 0 && !clean, Date.now())
        : { oomKills: 0, limitHits: 0, peakBytes: null, usage: null };
      if (reading.usage) s.meter.observe(reading.usage);
      let complete: SupervisedEnd = end;
      const killed =
        (end.kind === 'exited' && end.code === 137) || (end.kind === 'signalled' && end.signal === 'SIGKILL');
      const peak = reading.peakBytes ?? 0;
      const limit = record.memMb * 1024 * 1024;
      const oom =
        reading.oomKills !== null
          ? reading.oomKills > 0
          : killed && !end.stopped && (reading.limitHits ?? 0) > 0 && peak >= limit * OOM_SHARE;
      if (record.memMb > 0 && !clean && oom) complete = { ...complete, oom: { limitMb: record.memMb } };
      complete = { ...complete, usage: s.meter.usage(s.startedAt, end.at ?? Date.now()) };
      this.cleanUp(cgroups, record).catch((err: unknown) =>
        this.logger.warn({ err, cgroup: record.path }, 'local backend: a host cgroup was not removed'),
      );
      return complete;
    } finally {
      this.completing.delete(record.path);
    }
  }

  /** Removes this data directory's empty host cgroups no process here stands for (`ours`: paths). */
  async sweep(ours: Set<string>): Promise<number> {
    const cgroups = this.cgroups();
    if (!cgroups) return 0;
    let removed = 0;
    for (const path of await cgroups.empty()) {
      // Made by this server since: a cgroup just made is empty until its process is written to it.
      if (ours.has(path) || this.completing.has(path) || cgroups.madeHere(path)) continue;
      if (await cgroups.remove(path)) removed++;
    }
    return removed;
  }

  private async cleanUp(cgroups: HostCgroups, record: HostCgroupRecord): Promise<void> {
    for (let i = 0; i < 20; i++) {
      if (await cgroups.remove(record.path)) return;
      await new Promise((resolve) => setTimeout(resolve, 250).unref());
    }
  }
}

/** The host cgroup a supervised process runs in, from its directory; null when none. */
export async function readHostCgroupFile(dir: string): Promise<HostCgroupRecord | null> {
  try {
    const r = JSON.parse(await readFile(join(dir, HOST_CGROUP_FILE), 'utf8')) as HostCgroupRecord;
    return typeof r.path === 'string' && typeof r.memMb === 'number' ? r : null;
  } catch {
    return null;
  }
}
