import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { SimulatedBehavior } from '../options.js';
import { commandVariables } from './environment.js';
import type { HealthCheckPlan, HealthProbe } from './health-checks.js';
import { signalGroup, type ProcessRegistry } from './process-runner.js';

/**
 * The checks themselves. Processes mode: a real HTTP GET or TCP connection to 127.0.0.1 (the
 * fake's tasks share the host's network, so the port is the one the process listens on), or the
 * check's command run by `/bin/sh -c` (or as argv with `shell: false`) in the task's sandbox with
 * the task's environment plus the command's variables, its output discarded. Simulate mode: the
 * outcome the task's `SimulatedBehavior.health` decides.
 */

/** Where and how a task runs, for a COMMAND check. */
export interface ProbeContext {
  /** The task's sandbox: the check command's working directory. */
  readonly directory: string;
  /** The task's environment; the check command's variables are added to it. */
  readonly env: Record<string, string>;
  readonly processes: ProcessRegistry;
}

/** The probe of a check against real processes. */
export function processProbe(plan: HealthCheckPlan, context: ProbeContext): HealthProbe {
  if (plan.http !== undefined) return httpProbe(plan.http);
  if (plan.tcp !== undefined) return tcpProbe(plan.tcp.port);
  return commandProbe(plan.command ?? {}, context);
}

/**
 * The probe of a simulated task: `health` true/false for every check, or per check number
 * (1-based). Undefined (no checks at all) when the behavior does not say.
 */
export function simulatedProbe(behavior: SimulatedBehavior): HealthProbe | undefined {
  const { health } = behavior;
  if (health === undefined) return undefined;
  let count = 0;
  return () => {
    count++;
    return Promise.resolve(typeof health === 'function' ? health(count) : health);
  };
}

function httpProbe(http: NonNullable<HealthCheckPlan['http']>): HealthProbe {
  const passes = (status: number): boolean =>
    http.statuses.length > 0 ? http.statuses.includes(status) : status >= 200 && status <= 399;
  return (signal) =>
    new Promise<boolean>((resolve) => {
      const send = http.scheme === 'https' ? httpsRequest : httpRequest;
      const req = send(
        {
          host: '127.0.0.1',
          port: http.port,
          path: http.path,
          method: 'GET',
          signal,
          agent: false,
          rejectUnauthorized: false,
        },
        (res) => {
          res.resume();
          resolve(passes(res.statusCode ?? 0));
        },
      );
      req.once('error', () => resolve(false));
      req.end();
    });
}

function tcpProbe(port: number): HealthProbe {
  return (signal) =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      const done = (passed: boolean): void => {
        signal.removeEventListener('abort', abort);
        socket.destroy();
        resolve(passed);
      };
      const abort = (): void => done(false);
      signal.addEventListener('abort', abort, { once: true });
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
}

function commandProbe(command: Record<string, unknown>, context: ProbeContext): HealthProbe {
  const value = typeof command.value === 'string' ? command.value : '';
  const args = Array.isArray(command.arguments) ? command.arguments.map(String) : [];
  const shell = command.shell !== false;
  return (signal) =>
    new Promise<boolean>((resolve) => {
      const options = {
        cwd: context.directory,
        env: { ...context.env, ...commandVariables(command) },
        detached: true,
        stdio: 'ignore' as const,
      };
      const child = shell
        ? spawn('/bin/sh', ['-c', value], options)
        : spawn(value, args.slice(1), { ...options, argv0: args[0] ?? value });
      context.processes.add(child);
      const abort = (): void => signalGroup(child, 'SIGKILL');
      signal.addEventListener('abort', abort, { once: true });
      child.once('error', () => {
        signal.removeEventListener('abort', abort);
        resolve(false);
      });
      child.once('exit', (code) => {
        signal.removeEventListener('abort', abort);
        resolve(code === 0 && !signal.aborted);
      });
    });
}
