import { readProc, scanProcs } from './proc.js';

/**
 * Stopping a supervised process group without ever signalling someone else's: SIGTERM now, SIGKILL
 * after the grace period, to the group the supervisor leads. Apart from the Supervisor because the
 * proof that a group id is still ours (its leader, or a witness from its session) is the subtle
 * part of a stop, and the deadlines outlive the processes they are for.
 */

/** The SIGKILL deadlines of stops; cleared when the server closes (the processes live on). */
export class KillDeadlines {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Runs `kill` after `ms` unless the server closes first. */
  after(ms: number, kill: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      kill();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/** One stop of the group led by `pid` (started at `startTime`). */
export interface GroupStop {
  pid: number;
  startTime: string;
  signal: NodeJS.Signals;
  graceMs: number;
  /** Runs at the deadline before the group's SIGKILL (a container is killed by its runtime). */
  beforeKill?: () => Promise<unknown>;
  /** Called once the first signal was sent. */
  signalled: () => void;
  onError: (err: unknown) => void;
}

/**
 * The stop sequence of the process group `pid` (the supervisor leads its own session and group):
 * `signal` now, SIGKILL after `graceMs`. The SIGKILL goes to the group even when the supervisor
 * ended meanwhile, as long as the group id is still provably ours: its leader (same pid, same
 * start time, a zombie included) still exists, or a process that was in its session when the
 * stop began still is. A pid stays allocated while any process is in its session, so neither
 * can be a reused id; a group that emptied and whose id may since have been reused is left
 * alone (there is nothing of ours left in it). Answers false when the leader ended before the
 * first signal could be sent safely (its end is reported as usual).
 */
export async function stopGroup(stop: GroupStop, deadlines: KillDeadlines): Promise<boolean> {
  const { pid, startTime } = stop;
  const procs = await scanProcs();
  // The leader outlived the scan, so every process the scan saw in its session is of this group's session.
  if (!isLeader(pid, startTime)) return false;
  const witnesses = procs.filter(
    (p) => p.session === pid && p.pid !== pid && Number(p.startTime) >= Number(startTime),
  );
  signalGroup(pid, stop.signal);
  stop.signalled();
  deadlines.after(stop.graceMs, () => {
    (stop.beforeKill?.() ?? Promise.resolve())
      .then(() => stillOurs(pid, startTime, witnesses))
      .then((ours) => ours && signalGroup(pid, 'SIGKILL'))
      .catch(stop.onError);
  });
  return true;
}

/** Whether the process `pid` that started at `startTime` still exists (a zombie too: it still holds its pid). */
function isLeader(pid: number, startTime: string): boolean {
  return readProc(pid)?.startTime === startTime;
}

/**
 * Whether the process group `pid` is still the one its leader (started at `startTime`) made:
 * the leader still exists, or one of `witnesses` (seen in its session while the leader lived) is
 * still the same process in that session, which kept the id from being reused.
 */
function stillOurs(
  pid: number,
  startTime: string,
  witnesses: readonly { pid: number; startTime: string }[],
): boolean {
  if (isLeader(pid, startTime)) return true;
  for (const w of witnesses) {
    const now = readProc(w.pid);
    if (now?.startTime === w.startTime && now.session === pid) return true;
  }
  return false;
}

/** Sends a signal to a process group; a group that is already gone is not an error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
