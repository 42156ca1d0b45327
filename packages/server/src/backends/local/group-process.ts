import { join } from 'node:path';
import type { ProcessSpec } from '@galley/core';
import type { ProcessEnd } from '../group-runner.js';
import type { HealthProbe } from './group-health.js';

/**
 * One process of a local pipeline launch, as the local group runner tracks it until it ends.
 * Its directory `<dataDir>/pipelines/<pipeline>/<instance>.<seq>.<uid>/<process>/` holds the
 * supervisor's `pid` and `exit` files and the process's `stdout` and `stderr`.
 */
export interface LocalProcess {
  name: string;
  taskId: string;
  dir: string;
  spec: ProcessSpec;
  /** Host ports in `port_mappings` order (empty until placed). */
  ports: number[];
  pid: number | null;
  startTime: string | null;
  /** `spawner`: its end is reported by the spawner; `poll`: adopted (or its spawner died), checked by polling. */
  watch: 'spawner' | 'poll';
  /** Checks that found no pid for a `poll` process whose spawner never confirmed it. */
  pidChecks: number;
  killSent: boolean;
  killTimer: NodeJS.Timeout | null;
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
    pid: null,
    startTime: null,
    watch: 'spawner',
    pidChecks: 0,
    killSent: false,
    killTimer: null,
    ended: false,
    probe: null,
  };
}

/** How a supervised process ended, from its exit code (null: killed by `signal`). */
export function endOf(
  p: LocalProcess,
  code: number | null,
  signal: string | null,
  killRequested: boolean,
): ProcessEnd {
  if (code !== null) {
    const state = killRequested || p.killSent ? 'TASK_KILLED' : code === 0 ? 'TASK_FINISHED' : 'TASK_FAILED';
    return { state, exitCode: code, message: `exited with code ${code}`, hostFailure: false };
  }
  return {
    state: killRequested || p.killSent ? 'TASK_KILLED' : 'TASK_FAILED',
    exitCode: null,
    message: `killed by signal ${signal ?? 'unknown'}`,
    hostFailure: false,
  };
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
