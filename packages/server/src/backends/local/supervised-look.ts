import { pathExists, readExitFile, readPidFile } from './attempt-files.js';
import { inspectContainer } from './container-cli.js';
import type { ContainerRecord, ContainerRuntime } from './container-runtime.js';
import { findProcesses, isSameProcess, readProc, stillRunning } from './proc.js';
import type { Supervised, SupervisedEnd } from './supervised-types.js';

/**
 * How the Supervisor tells what became of a process it cannot hear from (adopted after a restart,
 * or left by a spawner that died): from the files its supervisor script writes (pid, exit), from
 * /proc (the same pid, start time and command line), and for a container from its runtime. Apart
 * from the Supervisor because these looks only read and answer; acting on the answer (tracking,
 * polling, completing an end) is the Supervisor's.
 */

/** Checks (every adoptCheckMs) for the pid of a process the lost spawner never confirmed. */
const PID_CHECKS = 20;

/** What a restart finds of a process. */
export type LookAgain =
  /** Alive: its supervisor (`poll`), or only its container (`container`, its supervisor gone). */
  | { kind: 'alive'; pid: number | null; startTime: string | null; watch: 'poll' | 'container' }
  | { kind: 'ended'; end: SupervisedEnd }
  | { kind: 'absent' };

/**
 * What the process in `dir` is after a restart, from the handle its owner stored (null when none)
 * and its container's record (null for a host process). `launched`: its owner knows it was
 * started, so it is never `absent`.
 */
export async function lookAgain(
  dir: string,
  stored: Record<string, unknown> | null,
  container: ContainerRecord | null,
  runtime: ContainerRuntime | null,
  launched: boolean,
): Promise<LookAgain> {
  const ended = (end: SupervisedEnd): LookAgain => ({ kind: 'ended', end });
  const exit = await readExitFile(dir);
  if (exit) return ended({ kind: 'exited', code: exit.code, at: exit.at, stopped: false });
  const startTime = typeof stored?.['startTime'] === 'string' ? stored['startTime'] : null;
  let pid = typeof stored?.['pid'] === 'number' ? stored['pid'] : await readPidFile(dir);
  // The supervisor writes its pid first thing; without it, look for it by its argument.
  pid ??= (await findProcesses(dir))[0] ?? null;
  if (pid !== null && (await isSameProcess(pid, startTime, dir)))
    return { kind: 'alive', pid, startTime: readProc(pid)?.startTime ?? startTime, watch: 'poll' };
  // Dead: it may have written its exit status between our two looks.
  const late = await readExitFile(dir);
  if (late) return ended({ kind: 'exited', code: late.code, at: late.at, stopped: false });
  if (container && runtime) {
    // The supervisor is gone; its container may not be.
    const state = await inspectContainer(runtime, container.name);
    if (state?.running) return { kind: 'alive', pid, startTime, watch: 'container' };
    if (state?.started) return ended({ kind: 'exited', code: state.exitCode, stopped: false });
  }
  if (pid === null) {
    if (!launched && !(await pathExists(dir))) return { kind: 'absent' };
    return ended({
      kind: 'lost',
      message: 'the process is gone and left no pid or exit status',
      stopped: false,
    });
  }
  return ended({
    kind: 'lost',
    message: 'the process ended while the server was down and left no exit status',
    stopped: false,
  });
}

/**
 * One look at a polled host-side process: its end; `alive` while it lives; `pending` while the pid
 * of one the lost spawner never confirmed is still unknown; `container` when its supervisor died
 * without a word but its container may live on (it is watched through its runtime from now on).
 * Learns the pid and start time on `s` when it finds them.
 */
export async function lookPolled(
  s: Supervised,
  runtime: ContainerRuntime | null,
): Promise<SupervisedEnd | 'alive' | 'pending' | 'container'> {
  // The common answer, in one read of /proc: the process recognized at adoption still runs. (Its
  // exit file, written as it ends, is read once it is gone.)
  if (s.pid !== null && s.startTime !== null && stillRunning(s.pid, s.startTime)) return 'alive';
  const exit = await readExitFile(s.dir);
  if (exit) return { kind: 'exited', code: exit.code, at: exit.at, stopped: s.stopped };
  if (s.pid === null) {
    // Lost with the spawner before its pid was known: the supervisor writes one at once, and
    // its command line names the directory. Neither after a few checks: never started.
    const pid = (await readPidFile(s.dir)) ?? (await findProcesses(s.dir))[0] ?? null;
    if (pid === null) {
      if (++s.pidChecks < PID_CHECKS) return 'pending';
      return {
        kind: 'launch-failed',
        message: 'the spawner died before it started the process',
        stopped: s.stopped,
      };
    }
    s.pid = pid;
    s.startTime = readProc(pid)?.startTime ?? null;
  }
  if (await isSameProcess(s.pid, s.startTime, s.dir)) return 'alive';
  const late = await readExitFile(s.dir);
  if (late) return { kind: 'exited', code: late.code, at: late.at, stopped: s.stopped };
  if (s.container && runtime) {
    s.watch = 'container';
    return 'container';
  }
  if (s.stopped) return { kind: 'signalled', signal: 'SIGKILL', stopped: true };
  return { kind: 'lost', message: 'the process ended without an exit status', stopped: false };
}
