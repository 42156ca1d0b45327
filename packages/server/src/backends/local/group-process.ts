import { join } from 'node:path';
import type { ProcessSpec } from '@galley/core';
import type { ProcessEnd } from '../group-runner.js';
import type { HealthProbe } from './group-health.js';
import type { SupervisedEnd } from './supervised.js';

/**
 * One process of a local pipeline launch, as the local group runner tracks it until it ends (its
 * pid and how it is watched are the Supervisor's). Its directory
 * `<dataDir>/pipelines/<pipeline>/<instance>.<seq>.<uid>/<process>/` holds the supervisor's `pid`
 * and `exit` files and the process's `stdout` and `stderr`.
 */
export interface LocalProcess {
  name: string;
  taskId: string;
  dir: string;
  spec: ProcessSpec;
  /** Host ports in `port_mappings` order (empty until placed). */
  ports: number[];
  ended: boolean;
  probe: HealthProbe | null;
}

/** The directory of one process of a launch. */
export function processDir(dataDir: string, launchId: string, process: string): string {
  const cut = launchId.indexOf('$');
  return join(dataDir, 'pipelines', launchId.slice(0, cut), launchId.slice(cut + 1), process);
}

/** A process not started yet. */
export function newLocalProcess(dataDir: string, launchId: string, spec: ProcessSpec): LocalProcess {
  return {
    name: spec.id,
    taskId: `${launchId}:${spec.id}`,
    dir: processDir(dataDir, launchId, spec.id),
    spec,
    ports: [],
    ended: false,
    probe: null,
  };
}

/** A supervised process's end as a pipeline process's end; `killRequested`: its launch is being stopped. */
export function processEnd(end: SupervisedEnd, killRequested: boolean): ProcessEnd {
  const killed = killRequested || end.stopped;
  if (end.oom && !killed)
    return {
      state: 'TASK_FAILED',
      exitCode: end.kind === 'exited' ? end.code : null,
      message: `out of memory (limit ${end.oom.limitMb} MB)`,
      hostFailure: false,
    };
  switch (end.kind) {
    case 'exited': {
      const state = killed ? 'TASK_KILLED' : end.code === 0 ? 'TASK_FINISHED' : 'TASK_FAILED';
      return { state, exitCode: end.code, message: `exited with code ${end.code}`, hostFailure: false };
    }
    case 'signalled':
      return {
        state: killed ? 'TASK_KILLED' : 'TASK_FAILED',
        exitCode: null,
        message: `killed by signal ${end.signal}`,
        hostFailure: false,
      };
    case 'launch-failed':
      return hostFailureEnd(`launch failed: ${end.message}`, killRequested);
    case 'lost':
      return hostFailureEnd(end.message, killRequested);
    case 'pull-failed':
      return {
        state: killed ? 'TASK_KILLED' : 'TASK_FAILED',
        exitCode: null,
        message: `image pull failed: ${end.message}`,
        hostFailure: false,
      };
  }
}

/** An end that is the host's fault (launch failed, lost while the server was down). */
export function hostFailureEnd(message: string, killRequested: boolean): ProcessEnd {
  return {
    state: killRequested ? 'TASK_KILLED' : 'TASK_LOST',
    exitCode: null,
    message,
    hostFailure: !killRequested,
  };
}
