/**
 * One task's command as a process in its own process group, as the Mesos command executor runs
 * it: `shell` (default true) runs `/bin/sh -c value`; otherwise `value` runs with `arguments` as
 * argv (`arguments[0]` is argv[0]). A kill sends SIGTERM to the group and SIGKILL after the grace
 * period. The outcome is described in Mesos' words ("Command exited with status N",
 * "Command terminated with signal Terminated").
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { CommandInfo } from '../types/index.js';

/** How the command ended. */
export interface TaskExit {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when `kill()` was called before it ended. */
  readonly killed: boolean;
}

const SIGNAL_TEXT: Readonly<Record<string, string>> = {
  SIGTERM: 'Terminated',
  SIGKILL: 'Killed',
  SIGINT: 'Interrupt',
  SIGHUP: 'Hangup',
  SIGQUIT: 'Quit',
  SIGABRT: 'Aborted',
  SIGSEGV: 'Segmentation fault',
  SIGPIPE: 'Broken pipe',
  SIGBUS: 'Bus error',
  SIGFPE: 'Floating point exception',
  SIGILL: 'Illegal instruction',
  SIGUSR1: 'User defined signal 1',
  SIGUSR2: 'User defined signal 2',
  SIGALRM: 'Alarm clock',
};

/** Mesos' message for an exit: `Command exited with status N` / `Command terminated with signal X`. */
export function describeExit(exit: Pick<TaskExit, 'code' | 'signal'>): string {
  if (exit.signal !== null)
    return `Command terminated with signal ${SIGNAL_TEXT[exit.signal] ?? exit.signal}`;
  return `Command exited with status ${exit.code ?? 0}`;
}

/**
 * The environment of a task: the executor's plus the CommandInfo's variables: VALUE ones as they
 * are, SECRET ones whose Secret is a VALUE decoded from its base64 `data` (as the agent's default
 * secret resolver does for command tasks; a REFERENCE needs a resolver module this executor does
 * not have, so it is left out).
 */
export function taskEnvironment(command: CommandInfo, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const variable of command.environment?.variables ?? []) {
    if (variable.type === undefined || variable.type === 'VALUE') env[variable.name] = variable.value ?? '';
    else if (variable.type === 'SECRET' && variable.secret?.type === 'VALUE' && variable.secret.value)
      env[variable.name] = Buffer.from(variable.secret.value.data, 'base64').toString('utf8');
  }
  return env;
}

/** Time a killed task's process group is waited for, after its first process ended. */
const GROUP_GONE_WAIT_MS = 2000;

/**
 * Whether a process of group `pgid` still lives. On Linux a zombie (dead, not yet reaped by whoever
 * adopted it) does not count; elsewhere any process does.
 */
function groupLives(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue;
      }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
    }
    return false;
  } catch {
    return true;
  }
}

/** Resolves once no live process of group `pgid` is left (or after GROUP_GONE_WAIT_MS), SIGKILLing stragglers. */
async function groupGone(pgid: number): Promise<void> {
  const deadline = Date.now() + GROUP_GONE_WAIT_MS;
  while (groupLives(pgid) && Date.now() < deadline) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A started task process. */
export class TaskProcess {
  private readonly child: ChildProcess;
  private escalation: ReturnType<typeof setTimeout> | undefined;
  private escalateAt = Number.POSITIVE_INFINITY;
  private killRequested = false;
  /** Resolves with the pid once the process started; rejects when it could not start. */
  readonly started: Promise<number>;
  /** Resolves when the process ended (never rejects; a start failure ends with code 127). */
  readonly exited: Promise<TaskExit>;

  /**
   * `output`: file descriptors for the task's stdout and stderr (a shared executor gives each task
   * its own files); default the executor's own (the sandbox's `stdout` and `stderr`).
   */
  constructor(
    command: CommandInfo,
    options: { cwd?: string; env: NodeJS.ProcessEnv; output?: { stdout: number; stderr: number } },
  ) {
    const value = command.value ?? '';
    const args = command.arguments ?? [];
    const stdio: StdioOptions = [
      'ignore',
      options.output?.stdout ?? 'inherit',
      options.output?.stderr ?? 'inherit',
    ];
    this.child =
      command.shell === false
        ? spawn(value, args.slice(1), {
            argv0: args[0] ?? value,
            cwd: options.cwd,
            env: options.env,
            detached: true,
            stdio,
          })
        : spawn('/bin/sh', ['-c', value], { cwd: options.cwd, env: options.env, detached: true, stdio });
    this.started = new Promise((resolve, reject) => {
      this.child.once('spawn', () => resolve(this.child.pid ?? 0));
      this.child.once('error', reject);
    });
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.escalation !== undefined) clearTimeout(this.escalation);
        const exit = { code, signal, killed: this.killRequested };
        // A killed task ends when its whole process group is gone, not only its first process.
        if (this.killRequested && this.child.pid !== undefined)
          void groupGone(this.child.pid).then(() => resolve(exit));
        else resolve(exit);
      };
      this.child.once('exit', done);
      this.child.once('error', () => done(127, null));
    });
    this.started.catch(() => undefined);
  }

  /** The process id (undefined until started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * SIGTERM to the process group now (first call), SIGKILL after `graceMs`. A later call with a
   * shorter grace period brings the SIGKILL forward; a longer one changes nothing.
   */
  kill(graceMs: number): void {
    const at = Date.now() + Math.max(0, graceMs);
    if (!this.killRequested) {
      this.killRequested = true;
      this.signal('SIGTERM');
    } else if (at >= this.escalateAt) {
      return;
    }
    this.escalateAt = at;
    if (this.escalation !== undefined) clearTimeout(this.escalation);
    this.escalation = setTimeout(() => this.signal('SIGKILL'), Math.max(0, graceMs));
  }

  /** Sends a signal to the whole process group (ignored once it ended). */
  signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        this.child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
}
