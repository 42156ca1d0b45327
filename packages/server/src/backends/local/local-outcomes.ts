import type { AttemptUsage, BackendEvent } from '../backend.js';
import type { ContainerRuntime } from './container-runtime.js';
import type { HostLimits } from './host-cgroup.js';
import type { SupervisedEnd } from './supervised.js';

/**
 * What the local backend says of its runs: the notes of `/clusters` and the start-up line (how
 * commands run here, and which limits hold), and a supervised process's end in a run's words —
 * its outcome, an out-of-memory kill, its usage. Apart from the backend so the words a user reads
 * are in one place, for containers and host mode alike.
 */

/** The note shown in `/clusters` and logged at start in host mode: local runs are not isolated. */
export const LOCAL_NOTE =
  'commands run directly on this host with /bin/sh, without containers: the image is recorded but not used';

/** What holds of a host-mode run's limits, in the note (`/clusters`, the start-up line). */
export function hostLimitsNote(limits: HostLimits | null): string {
  if (!limits) return 'memory is accounted, not enforced (host cgroups not probed yet)';
  const memory = limits.memory.enforced
    ? `memory limits hold: ${limits.memory.how}`
    : `memory is ${limits.memory.how}`;
  const cpu = limits.cpu.enforced ? `CPU limits hold: ${limits.cpu.how}` : `CPU limits are ${limits.cpu.how}`;
  return `${memory}; ${cpu}`;
}

/** The note of a local cluster that runs images. */
export function containerNote(runtime: ContainerRuntime): string {
  return `runs and pipeline processes run in their images with ${runtime.description}: memory and CPU limits hold (an out-of-memory kill says so), usage is measured, ports are published; images are pulled ${runtime.pullPolicy === 'if-not-present' ? 'when not present' : runtime.pullPolicy === 'always' ? 'before every start' : 'never (they must be present)'}`;
}

/** The words of an out-of-memory kill, in the exit reason. */
export function oomReason(limitMb: number): string {
  return `out of memory (limit ${limitMb} MB)`;
}

/** What a supervised process used, as a run's usage; undefined when nothing was measured. */
export function usageOf(end: SupervisedEnd): AttemptUsage | undefined {
  const u = end.usage;
  const measured = u && (u.maxMemoryMb !== null || u.maxCpuMillicores !== null);
  if (!measured && !end.oom) return undefined;
  return {
    maxMemoryMb: u?.maxMemoryMb ?? null,
    maxCpuMillicores: u?.maxCpuMillicores ?? null,
    ...(end.oom
      ? {
          exceptions: [
            `out of memory: the kernel killed it at its memory limit of ${end.oom.limitMb} MB${u?.maxMemoryMb != null ? ` (peak ${u.maxMemoryMb} MB)` : ''}`,
          ],
        }
      : {}),
  };
}

/** A supervised process's end as a run attempt's outcome. */
export function outcomeOf(end: SupervisedEnd): Extract<BackendEvent, { type: 'ended' }>['outcome'] {
  if (end.oom) return { kind: 'killed', message: oomReason(end.oom.limitMb) };
  switch (end.kind) {
    case 'exited':
      return { kind: 'exited', exitCode: end.code };
    case 'signalled':
      return { kind: 'killed', message: `signal ${end.signal}` };
    case 'launch-failed':
      return { kind: 'host-failure', reason: 'launch failed', message: end.message };
    case 'lost':
      return { kind: 'host-failure', reason: 'lost', message: end.message };
    case 'pull-failed':
      return end.stopped
        ? { kind: 'killed', message: 'stopped while its image was pulled' }
        : { kind: 'rejected', message: `image pull failed: ${end.message}` };
  }
}
