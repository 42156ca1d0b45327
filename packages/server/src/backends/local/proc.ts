import { readdir, readFile } from 'node:fs/promises';
import { readSmallFile } from './kernel-files.js';

// Reading Linux /proc to recognize a process again after a restart: a pid alone may have been
// reused, so identity is pid + start time (clock ticks after boot, /proc/<pid>/stat field 22)
// + a command line that names the attempt's directory. `stat` is read synchronously: it is in
// memory, and a read through fs/promises (a file handle, thread-pool trips and their garbage) cost
// far more than the kernel's work — a restart that adopted 1,000 processes spent a core on checking
// them each second. `cmdline` is read through the thread pool: the kernel reads it from the
// process's memory under its memory-map lock, which a process in the middle of a large mapping
// change holds for as long as that takes.

/** A process as /proc shows it; null when there is no such process. */
export interface ProcInfo {
  /** One-letter state: R, S, D, Z (zombie), … */
  state: string;
  /** Start time in clock ticks after boot. */
  startTime: string;
  /** Its process group and session (field 5 and 6). */
  pgrp: number;
  session: number;
  /** Resident set size in pages (field 24). */
  rssPages: number;
  /** CPU time in clock ticks: its own user and system time and its waited-for children's (fields 14–17). */
  cpuTicks: number;
}

/** A process of a scan of /proc. */
export interface ProcEntry extends ProcInfo {
  pid: number;
}

/** Reads /proc/<pid>/stat; null when the process does not exist. */
export function readProc(pid: number): ProcInfo | null {
  const stat = readSmallFile(`/proc/${pid}/stat`);
  return stat === null ? null : parseStat(stat);
}

function parseStat(stat: string): ProcInfo | null {
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const startTime = rest[19];
  if (state === undefined || startTime === undefined) return null;
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + (Number(rest[i]) || 0), 0);
  return {
    state,
    startTime,
    pgrp: Number(rest[2]),
    session: Number(rest[3]),
    rssPages: Number(rest[21]) || 0,
    cpuTicks: ticks,
  };
}

let scanning: Promise<ProcEntry[]> | null = null;

/**
 * Every process /proc shows (zombies included). Callers at the same moment share one scan, so a
 * pipeline delete that stops many processes at once reads /proc once.
 */
export function scanProcs(): Promise<ProcEntry[]> {
  scanning ??= (async () => {
    try {
      const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
      const found: ProcEntry[] = [];
      for (const pid of pids) {
        const info = readProc(pid);
        if (info) found.push({ pid, ...info });
      }
      return found;
    } finally {
      scanning = null;
    }
  })();
  return scanning;
}

/** The process's argv; empty when unreadable. */
export async function readCmdline(pid: number): Promise<string[]> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  } catch {
    return [];
  }
}

/**
 * True when `pid` is alive (not a zombie), started at `startTime` (when known) and has `marker`
 * as one of its arguments.
 */
export async function isSameProcess(pid: number, startTime: string | null, marker: string): Promise<boolean> {
  const info = readProc(pid);
  if (!info || info.state === 'Z' || info.state === 'X') return false;
  if (startTime !== null && info.startTime !== startTime) return false;
  return (await readCmdline(pid)).includes(marker);
}

/**
 * True when `pid` is alive (not a zombie) and started at `startTime`: the process recognized once
 * (isSameProcess) still runs. Pid and start time (in clock ticks after boot) name one process for
 * the life of the machine, so its command line need not be read again.
 */
export function stillRunning(pid: number, startTime: string): boolean {
  const info = readProc(pid);
  return info !== null && info.state !== 'Z' && info.state !== 'X' && info.startTime === startTime;
}

/** Pids of live processes that have `marker` as an argument (a scan of /proc). */
export async function findProcesses(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if ((await readCmdline(pid)).includes(marker) && (await isSameProcess(pid, null, marker)))
      found.push(pid);
  }
  return found;
}
