import { join } from 'node:path';
import type { Logger } from 'pino';
import { capLogFile } from './attempt-files.js';
import { scanProcs } from './proc.js';
import type { Supervised } from './supervised-types.js';
import { readCgroup, sessionSample } from './usage.js';

/**
 * The Supervisor's periodic look at what its running processes use and write: each one's usage
 * sampled (its cgroup's watermark when it has one — a container's or its host cgroup's — else its
 * session's processes from /proc) and its stdout and stderr kept within the log cap. One timer for
 * all, running only while something runs. Apart because it is the only part of supervision on a
 * clock of its own, and it never decides how a process ended.
 */

const STREAMS = ['stdout', 'stderr'] as const;

export interface UsageSamplerOptions {
  /** How often (ms). */
  sampleMs: number;
  /** Each process's stdout and stderr are kept within this many bytes; undefined = no cap. */
  logMaxBytes?: number;
  logger: Logger;
  /** The processes still running. */
  live: () => Supervised[];
  /** The cgroup of a container that has none of Galley's own (found once it runs). */
  containerCgroup: (s: Supervised) => Promise<string | null>;
}

export class UsageSampler {
  private timer: NodeJS.Timeout | null = null;
  private sampling = false;
  private closed = false;

  constructor(private readonly o: UsageSamplerOptions) {}

  /** Samples the usage of running processes until none is left. */
  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.sampleAll(), this.o.sampleMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Cuts a process's stdout and stderr back to the cap (see capLogFile). `sizes`: of stdout and
   * stderr as the spawner saw them at the exit; a stream known to be within the cap is not looked at.
   */
  async capLogs(s: Supervised, sizes?: readonly (number | null)[]): Promise<void> {
    const max = this.o.logMaxBytes;
    if (max === undefined) return;
    for (const [i, stream] of STREAMS.entries()) {
      const size = sizes?.[i];
      if (size !== undefined && size !== null && size <= max) continue;
      try {
        if (await capLogFile(join(s.dir, stream), max))
          this.o.logger.info({ id: s.id, stream, maxBytes: max }, 'local backend: log capped');
      } catch (err) {
        this.o.logger.warn({ err, id: s.id, stream }, 'local backend: could not cap the log');
      }
    }
  }

  private async sampleAll(): Promise<void> {
    if (this.sampling) return;
    const live = this.o.live();
    if (live.length === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    this.sampling = true;
    try {
      const hosts = live.filter((s) => s.cgroup === null && !s.container && s.pid !== null);
      const procs = hosts.length > 0 ? await scanProcs() : [];
      const now = Date.now();
      for (const s of hosts) s.meter.observe(sessionSample(s.pid!, procs, now));
      for (const s of live) await this.capLogs(s);
      for (const s of live) {
        if (s.container) s.cgroup ??= await this.o.containerCgroup(s);
        if (s.cgroup) s.meter.observe(await readCgroup(s.cgroup, Date.now()));
      }
    } catch (err) {
      this.o.logger.debug({ err }, 'local backend: usage sample failed');
    } finally {
      this.sampling = false;
    }
  }
}
