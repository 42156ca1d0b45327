import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { ProcessEnd } from '../group-runner.js';
import { readExitFile, readPidFile } from './attempt-files.js';
import { endOf, hostFailureEnd, type LocalProcess } from './group-process.js';
import { findProcesses, isSameProcess, readProc } from './proc.js';

/**
 * Watching a local pipeline process without its spawner (after a server restart, or when the
 * spawner died): what its supervisor left on disk (`pid`, `exit`) and what /proc says of its pid
 * (same start time, same directory in its arguments). Answers what was found; the caller records it.
 */

/** What a process is, found again after a restart. */
export type FoundAgain =
  | { kind: 'adopted'; pid: number; startTime: string | null }
  | { kind: 'ended'; end: ProcessEnd; at?: number }
  /** Its directory was never made: it never started. */
  | { kind: 'absent' };

/** Finds a process of a launch after a restart from its stored `handle` (pid, start time), its files and /proc. */
export async function findAgain(
  p: LocalProcess,
  handle: Record<string, unknown> | null,
  killRequested: boolean,
): Promise<FoundAgain> {
  const exit = await readExitFile(p.dir);
  if (exit) return { kind: 'ended', end: endOf(p, exit.code, null, killRequested), at: exit.at };
  const startTime = typeof handle?.['startTime'] === 'string' ? handle['startTime'] : null;
  let pid = typeof handle?.['pid'] === 'number' ? handle['pid'] : await readPidFile(p.dir);
  if (pid === null) {
    pid = (await findProcesses(p.dir))[0] ?? null;
    if (pid === null) {
      if (!existsSync(p.dir)) return { kind: 'absent' };
      return {
        kind: 'ended',
        end: hostFailureEnd('the process is gone and left no pid or exit status', killRequested),
      };
    }
  }
  if (await isSameProcess(pid, startTime, p.dir))
    return { kind: 'adopted', pid, startTime: (await readProc(pid))?.startTime ?? startTime };
  const late = await readExitFile(p.dir);
  if (late) return { kind: 'ended', end: endOf(p, late.code, null, killRequested), at: late.at };
  return {
    kind: 'ended',
    end: hostFailureEnd('the process ended while the server was down and left no exit status', killRequested),
  };
}

/** Checks of a polled process without a pid before it counts as never started. */
const PID_CHECKS = 20;

/**
 * One look at a polled process: its end, or null while it lives (or its pid is still unknown;
 * `p.pid` and `p.pidChecks` are updated as it goes).
 */
export async function checkPolled(
  p: LocalProcess,
  killRequested: boolean,
): Promise<{ end: ProcessEnd; at?: number } | null> {
  const exit = await readExitFile(p.dir);
  if (exit) return { end: endOf(p, exit.code, null, killRequested), at: exit.at };
  if (p.pid === null) {
    p.pid = (await readPidFile(p.dir)) ?? (await findProcesses(p.dir))[0] ?? null;
    if (p.pid === null) {
      if (++p.pidChecks < PID_CHECKS) return null;
      return {
        end: hostFailureEnd('launch failed: the spawner died before it started the process', killRequested),
      };
    }
  }
  if (await isSameProcess(p.pid, p.startTime, p.dir)) return null;
  const late = await readExitFile(p.dir);
  if (late) return { end: endOf(p, late.code, null, killRequested), at: late.at };
  if (p.killSent)
    return {
      end: { state: 'TASK_KILLED', exitCode: null, message: 'killed by signal SIGKILL', hostFailure: false },
    };
  return { end: hostFailureEnd('the process ended without an exit status', false) };
}

/** The last non-empty line of a file's last 1 KiB (at most 200 characters); '' when none. */
export async function lastLine(path: string): Promise<string> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 1024);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      const lines = buffer
        .toString('utf8')
        .split('\n')
        .map((x) => x.trim())
        .filter(Boolean);
      return (lines.at(-1) ?? '').slice(0, 200);
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}
