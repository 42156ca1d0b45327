import type { SimulatedBehavior } from '../options.js';
import type { Timers } from '../model/timers.js';

/**
 * How a command runs: as a simulated program (timers only) or as a real process. The built-in
 * executors drive both through this interface and turn spawn/exit into status updates.
 */

/** How a command ended: exit code, or the signal that terminated it. */
export interface ExitResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The container was killed for exceeding a limit (`image-runner.ts`): the agent fails the task so. */
  readonly limitation?: ExitLimitation;
}

/** A resource limitation an isolator reported: TaskStatus `reason`, `message` and `limitation.resources`. */
export interface ExitLimitation {
  readonly reason: string;
  readonly message: string;
  readonly resources: readonly Record<string, unknown>[];
}

/** Callbacks of one run. `onExit` is called exactly once, after `onSpawned` (unless spawning failed). */
export interface RunHooks {
  /** The process exists (called synchronously from the spawn, before it can write anything). */
  onFork?(pid: number): void;
  onSpawned(pid: number): void;
  onExit(result: ExitResult): void;
  /** The program could not start (processes mode: spawn error); reported instead of onSpawned/onExit. */
  onSpawnError?(message: string): void;
}

/** A running (or starting) command. */
export interface RunningCommand {
  /** Sends a signal to the command's process group; ignored after exit. */
  signal(signal: 'SIGTERM' | 'SIGKILL'): void;
  /** Stops a command that has not spawned yet; no hooks are called afterwards. */
  cancel(): void;
}

let nextSimulatedPid = 40_000;

/**
 * Plays a simulated program: spawns after `launchDelayMs`, exits after `durationMs` with
 * `exitCode`, dies `killDelayMs` after SIGTERM (unless it ignores TERM) or SIGKILL.
 */
export function runSimulated(
  behavior: SimulatedBehavior,
  timing: { launchDelayMs: number; killDelayMs: number },
  timers: Timers,
  hooks: RunHooks,
): RunningCommand {
  let state: 'starting' | 'running' | 'exited' = 'starting';
  let exitTimer: ReturnType<typeof setTimeout> | undefined;
  const exit = (result: ExitResult): void => {
    if (state === 'exited') return;
    state = 'exited';
    timers.cancel(exitTimer);
    hooks.onExit(result);
  };
  const launchTimer = timers.after(timing.launchDelayMs, () => {
    if (state !== 'starting') return;
    state = 'running';
    const pid = nextSimulatedPid++;
    hooks.onFork?.(pid);
    hooks.onSpawned(pid);
    if (behavior.durationMs !== undefined) {
      exitTimer = timers.after(behavior.durationMs, () =>
        exit({ code: behavior.exitCode ?? 0, signal: null }),
      );
    }
  });
  return {
    signal: (signal) => {
      if (state !== 'running') return;
      if (signal === 'SIGTERM' && behavior.ignoresTerm === true) return;
      timers.after(timing.killDelayMs, () => exit({ code: null, signal }));
    },
    cancel: () => {
      if (state !== 'starting') return;
      state = 'exited';
      timers.cancel(launchTimer);
    },
  };
}
