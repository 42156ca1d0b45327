import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { World } from '../model/world.js';
import { MESOS_VERSION } from '../master/events.js';
import { formatStoutDuration } from '../wire/mesos-json.js';

/**
 * The command executor's own log, written into its sandbox's `stderr` around the program's output
 * as Mesos 1.12's does (transcript 15; `src/exec/exec.cpp`, `src/launcher/executor.cpp`): glog
 * lines `I1122 08:58:06.702047 17519 exec.cpp:164] Version: 1.12.0`, with multi-line messages (the
 * process trees of a kill) continuing on plain lines. Nothing goes to `stdout`: in 1.12 the
 * executor logs only through glog, which writes to stderr.
 */

/** The header's date and time to the second (`1122 08:58:06`), cached for the second it names. */
let stampSecond = -1;
let stampText = '';

/** A glog line's header: `I` (or W, E, F), MMDD, local time with microseconds, thread id, `file:line] `. */
export function glogLine(level: 'I' | 'W' | 'E', threadId: number, source: string, message: string): string {
  const now = performance.timeOrigin + performance.now();
  const second = Math.floor(now / 1000);
  if (second !== stampSecond) {
    const at = new Date(second * 1000);
    const two = (n: number): string => String(n).padStart(2, '0');
    stampSecond = second;
    stampText = `${two(at.getMonth() + 1)}${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  }
  const micros = String(Math.floor((now - second * 1000) * 1000)).padStart(6, '0');
  return `${level}${stampText}.${micros} ${threadId} ${source}] ${message}\n`;
}

let nextThreadId = 20_000;

/** Appends to a sandbox file: on disk in processes mode, the in-memory sandbox in simulate mode. */
export function appendSandbox(
  world: World,
  directory: string,
  file: 'stdout' | 'stderr',
  text: string,
): void {
  if (world.stopping || text === '') return;
  if (world.options.execution === 'processes') {
    try {
      mkdirSync(directory, { recursive: true });
      appendFileSync(join(directory, file), text);
    } catch {
      // the sandbox went away (the fake is stopping): nothing to log into
    }
    return;
  }
  let sandbox = world.simulatedSandboxes.get(directory);
  if (sandbox === undefined) {
    sandbox = {
      files: new Map([
        ['stdout', ''],
        ['stderr', ''],
      ]),
      mtime: Date.now() / 1000,
    };
    world.simulatedSandboxes.set(directory, sandbox);
  }
  sandbox.files.set(file, (sandbox.files.get(file) ?? '') + text);
}

/** A process tree as `os::ProcessTree` prints it inside `[ … ]`: one process, no children known. */
function processTrees(pid: number, command: string): string {
  return `[ \n--- ${pid} ${command} \n]`;
}

/** The log of one command executor, in the order its events happen. */
export class CommandExecutorLog {
  /** The executor's main thread (exec.cpp), its libprocess workers (executor.cpp). */
  private readonly mainThread = nextThreadId++;
  private readonly workerThread = nextThreadId++;

  constructor(
    private readonly world: World,
    private readonly directory: string,
  ) {
    nextThreadId += 8;
  }

  private write(source: string, message: string, thread = this.workerThread): void {
    appendSandbox(this.world, this.directory, 'stderr', glogLine('I', thread, source, message));
  }

  /** The executor started and registered with its agent (before its task is launched). */
  registered(agentId: string, hostname: string): void {
    this.write('exec.cpp:164', `Version: ${MESOS_VERSION}`, this.mainThread);
    this.write('exec.cpp:237', `Executor registered on agent ${agentId}`);
    this.write('executor.cpp:190', 'Received SUBSCRIBED event');
    this.write('executor.cpp:194', `Subscribed executor on ${hostname}`);
  }

  /** The LAUNCH arrived; the command is about to be forked. */
  starting(taskId: string): void {
    this.write('executor.cpp:190', 'Received LAUNCH event');
    this.write('executor.cpp:722', `Starting task ${taskId}`);
  }

  forked(pid: number): void {
    this.write('executor.cpp:740', `Forked command at ${pid}`);
  }

  /** A health check verdict the executor received from its checker. */
  health(healthy: boolean): void {
    this.write('executor.cpp:362', `Received task health update, healthy: ${healthy}`);
  }

  /** A KILL: SIGTERM to the process tree, escalation scheduled after the grace period. */
  killing(taskId: string, graceMs: number, pid: number | undefined, command: string): void {
    this.write('executor.cpp:190', 'Received KILL event');
    this.write(
      'executor.cpp:835',
      `Received kill for task ${taskId} with grace period of ${formatStoutDuration(graceMs)}`,
    );
    if (pid === undefined) return;
    this.write('executor.cpp:956', `Sending SIGTERM to process tree at pid ${pid}`);
    this.write(
      'executor.cpp:969',
      `Sent SIGTERM to the following process trees:\n${processTrees(pid, command)}`,
    );
    this.write(
      'executor.cpp:973',
      `Scheduling escalation to SIGKILL in ${formatStoutDuration(graceMs)} from now`,
    );
  }

  /** A second KILL with a shorter grace period brought the SIGKILL forward. */
  rescheduled(remainingMs: number): void {
    this.write(
      'executor.cpp:917',
      `Rescheduling escalation to SIGKILL in ${formatStoutDuration(remainingMs)} from now`,
    );
  }

  /** The grace period passed: SIGKILL. */
  escalated(graceMs: number, pid: number | undefined, command: string): void {
    if (pid === undefined) return;
    this.write(
      'executor.cpp:1082',
      `Process ${pid} did not terminate after ${formatStoutDuration(graceMs)}, sending SIGKILL to process tree at ${pid}`,
    );
    this.write('executor.cpp:1102', `Killed the following process trees:\n${processTrees(pid, command)}`);
  }

  /** The command ended (`Command exited with status 3`, `Command terminated with signal Killed`). */
  exited(description: string, pid: number | undefined): void {
    this.write('executor.cpp:1041', `${description} (pid: ${pid ?? 0})`);
  }

  /** The executor's last line, as it stops (a second after the terminal update, in Mesos). */
  stopped(): void {
    this.write('process.cpp:935', 'Stopped the socket accept loop', this.mainThread);
  }
}
