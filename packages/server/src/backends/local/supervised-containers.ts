import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { lastLine, pathExists } from './attempt-files.js';
import {
  endedContainers,
  inspectContainer,
  killContainer,
  lastWords,
  removeContainer,
} from './container-cli.js';
import {
  CLI_FAILURES,
  CONTAINER_FILE,
  type ContainerRecord,
  type ContainerRuntime,
  PULL_FAILED,
  PULL_LOG,
} from './container-runtime.js';
import type { KillDeadlines } from './supervised-stop.js';
import { endAt, type Supervised, type SupervisedEnd } from './supervised-types.js';
import { cgroupIsEmpty, cgroupOf, galleyCgroups, readCgroup, removeCgroup } from './usage.js';

/**
 * What the Supervisor does for a process that runs in a container, beyond what it does for every
 * process: the end made complete (a failed pull, a CLI that failed before the program ran, the
 * kernel's OOM kill, the usage its cgroup kept) and the container and its cgroup removed; a
 * container whose supervisor is gone watched and stopped through its runtime; and, after a
 * restart, the ended containers nobody stands for swept away. Apart because all of it talks to the
 * runtime, and a host process needs none of it.
 */

/** A container's memory peak this close to its limit, with a SIGKILL, is the kernel's OOM kill. */
const OOM_SHARE = 0.97;

export class SupervisedContainers {
  /** Containers whose end is being completed (not swept meanwhile). */
  private readonly completing = new Set<string>();

  constructor(
    private readonly runtime: ContainerRuntime | null,
    private readonly logger: Logger,
    private readonly deadlines: KillDeadlines,
  ) {}

  /**
   * A container's end made complete: a failed pull, or a CLI that failed before the program ran, say
   * so; a SIGKILL at its memory limit is the kernel's OOM kill; its usage is read (its own cgroup
   * keeps the peak); then the container and its cgroup are removed.
   */
  async complete(s: Supervised, end: SupervisedEnd): Promise<SupervisedEnd> {
    const record = s.container!;
    this.completing.add(record.name);
    try {
      return await this.completeNow(s, end, record);
    } finally {
      this.completing.delete(record.name);
    }
  }

  private async completeNow(
    s: Supervised,
    end: SupervisedEnd,
    record: ContainerRecord,
  ): Promise<SupervisedEnd> {
    const rt = this.runtime;
    let complete: SupervisedEnd = end;
    if (await pathExists(join(s.dir, PULL_FAILED))) {
      const log = await readFile(join(s.dir, PULL_LOG), 'utf8').catch(() => '');
      complete = { kind: 'pull-failed', message: lastWords(log), stopped: end.stopped, ...endAt(end) };
    }
    const state = rt ? await inspectContainer(rt, record.name) : null;
    if (complete.kind === 'exited' && CLI_FAILURES.has(complete.code) && state?.started !== true) {
      const words = await lastLine(join(s.dir, 'stderr'));
      complete = {
        kind: 'launch-failed',
        message: `the container did not start: ${words.replace(/^Error:\s*/, '') || `exit code ${complete.code}`}`,
        stopped: end.stopped,
        ...endAt(end),
      };
    }
    if (record.cgroupParent) s.meter.observe(await readCgroup(record.cgroupParent, Date.now()));
    const peak = s.meter.peakBytes;
    const killed =
      (complete.kind === 'exited' && complete.code === 137) ||
      (complete.kind === 'signalled' && complete.signal === 'SIGKILL');
    const limitBytes = record.memMb * 1024 * 1024;
    if (
      killed &&
      record.memMb > 0 &&
      (state?.oomKilled === true || (!complete.stopped && peak !== null && peak >= limitBytes * OOM_SHARE))
    )
      complete = { ...complete, oom: { limitMb: record.memMb } };
    const startedAt = state?.startedAt ?? s.startedAt;
    complete = { ...complete, usage: s.meter.usage(startedAt, state?.finishedAt ?? end.at ?? Date.now()) };
    if (rt)
      this.cleanUp(rt, record).catch((err: unknown) =>
        this.logger.warn({ err, container: record.name }, 'local backend: a container was not removed'),
      );
    return complete;
  }

  /** Removes an ended container and its cgroup (which may take a moment to empty). */
  private async cleanUp(rt: ContainerRuntime, record: ContainerRecord): Promise<void> {
    await removeContainer(rt, record.name);
    const parent = record.cgroupParent;
    for (let i = 0; parent && i < 20; i++) {
      if (await removeCgroup(parent)) return;
      await new Promise((resolve) => setTimeout(resolve, 250).unref());
    }
  }

  /** Stops a container whose supervisor is gone: SIGTERM now, SIGKILL after `graceMs`, by the runtime. */
  async stop(s: Supervised, graceMs: number): Promise<'signalled' | 'not-running'> {
    const rt = this.runtime;
    if (!rt || !s.container) return 'not-running';
    if (!(await killContainer(rt, s.container.name, 'TERM'))) return 'not-running';
    s.stopped = true;
    if (!s.stopping) {
      s.stopping = Promise.resolve(true);
      const name = s.container.name;
      this.deadlines.after(graceMs, () => void killContainer(rt, name, 'KILL'));
    }
    return 'signalled';
  }

  /** One look at a container whose supervisor is gone: its exit, or null while it runs. */
  async check(s: Supervised): Promise<SupervisedEnd | null> {
    const state = this.runtime && s.container ? await inspectContainer(this.runtime, s.container.name) : null;
    if (state?.running) return null;
    if (state?.started) return { kind: 'exited', code: state.exitCode, stopped: s.stopped };
    if (s.stopped) return { kind: 'signalled', signal: 'SIGKILL', stopped: true };
    return { kind: 'lost', message: 'the container is gone and left no exit status', stopped: false };
  }

  /** The cgroup of a container without one of Galley's own: its main process's. */
  async cgroupOf(s: Supervised): Promise<string | null> {
    if (!this.runtime || !s.container) return null;
    const state = await inspectContainer(this.runtime, s.container.name);
    return state?.running && state.pid > 0 ? cgroupOf(state.pid) : null;
  }

  /**
   * Removes the ended containers under `dir` (and their cgroups) that no process here stands for
   * (`ours`, container names): those whose end a server read before it died, before it could
   * remove them; and empty container cgroups whose container is gone.
   */
  async sweep(dir: string, ours: Set<string | undefined>): Promise<number> {
    const rt = this.runtime;
    if (!rt) return 0;
    for (const name of this.completing) ours.add(name);
    let removed = 0;
    for (const c of await endedContainers(rt, `${dir}/`)) {
      if (ours.has(c.name)) continue;
      const record = (await readContainerFile(c.dir)) ?? { name: c.name, memMb: 0, cgroupParent: null };
      if (record.name !== c.name) continue;
      await this.cleanUp(rt, record);
      ours.add(c.name);
      removed++;
    }
    // A cgroup left behind (its server stopped before it emptied): nobody's once it holds no
    // process and its container is gone, whichever server made it.
    for (const path of await galleyCgroups()) {
      const name = path.slice('/galley/'.length);
      if (ours.has(name) || !(await cgroupIsEmpty(path))) continue;
      if (await inspectContainer(rt, name)) continue;
      if (await removeCgroup(path)) removed++;
    }
    return removed;
  }
}

/** The container a supervised process runs in, from its directory; null for a host process. */
export async function readContainerFile(dir: string): Promise<ContainerRecord | null> {
  try {
    const r = JSON.parse(await readFile(join(dir, CONTAINER_FILE), 'utf8')) as ContainerRecord;
    return typeof r.name === 'string' ? r : null;
  } catch {
    return null;
  }
}
