/**
 * Executor configuration from the environment the agent sets (spec §3.1). Durations are in stout
 * format (`250ms`, `2secs`, `15mins`, `1.5hrs`). The authentication token is read once and removed
 * from the environment, as the spec asks.
 */
import { ExecutorError } from './errors.js';

/** What an executor needs to know, resolved from MESOS_* variables. */
export interface ExecutorConfig {
  readonly frameworkId: string;
  readonly executorId: string;
  /** `http://<MESOS_AGENT_ENDPOINT>/api/v1/executor`. */
  readonly agentUrl: URL;
  /** MESOS_DIRECTORY: the sandbox on the host. */
  readonly directory: string | undefined;
  /** MESOS_SANDBOX: the sandbox as the executor sees it (falls back to MESOS_DIRECTORY). */
  readonly sandbox: string | undefined;
  /** MESOS_CHECKPOINT=1: the executor may outlive an agent restart and must reconnect. */
  readonly checkpoint: boolean;
  /** MESOS_RECOVERY_TIMEOUT in ms: how long to keep trying after losing the agent (checkpointing only); default 15 min. */
  readonly recoveryTimeoutMs: number;
  /** MESOS_SUBSCRIPTION_BACKOFF_MAX in ms: upper bound of one retry interval; default 2 s. */
  readonly subscriptionBackoffMaxMs: number;
  /** MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD in ms; default 5 s. */
  readonly shutdownGracePeriodMs: number;
  /** MESOS_EXECUTOR_AUTHENTICATION_TOKEN, sent as `Authorization: Bearer`; undefined when absent. */
  readonly authToken: string | undefined;
}

const UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  secs: 1000,
  mins: 60_000,
  hrs: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

/** Parses a stout duration (`250ms`, `2secs`, `15mins`) into milliseconds; undefined when malformed. */
export function parseStoutDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(ns|us|ms|secs|mins|hrs|days|weeks)\s*$/.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * (UNITS[match[2] as string] as number);
}

function duration(env: Record<string, string | undefined>, name: string, fallbackMs: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallbackMs;
  const ms = parseStoutDuration(text);
  if (ms === undefined)
    throw new ExecutorError('EXECUTOR_BAD_CONFIG', `${name}="${text}" is not a duration like 2secs`);
  return ms;
}

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  if (value === undefined || value === '')
    throw new ExecutorError(
      'EXECUTOR_BAD_CONFIG',
      `${name} is not set (is this running under a Mesos agent?)`,
    );
  return value;
}

/**
 * Reads the configuration from `env` (default `process.env`) and deletes
 * MESOS_EXECUTOR_AUTHENTICATION_TOKEN from it. Throws ExecutorError EXECUTOR_BAD_CONFIG when
 * MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID or MESOS_AGENT_ENDPOINT is missing or a duration is malformed.
 */
export function executorConfigFromEnv(env: Record<string, string | undefined> = process.env): ExecutorConfig {
  const endpoint = required(env, 'MESOS_AGENT_ENDPOINT');
  let agentUrl: URL;
  try {
    agentUrl = new URL(`http://${endpoint}/api/v1/executor`);
  } catch (cause) {
    throw new ExecutorError('EXECUTOR_BAD_CONFIG', `MESOS_AGENT_ENDPOINT="${endpoint}" is not host:port`, {
      cause,
    });
  }
  const authToken = env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN;
  delete env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN;
  const directory = env.MESOS_DIRECTORY;
  return {
    frameworkId: required(env, 'MESOS_FRAMEWORK_ID'),
    executorId: required(env, 'MESOS_EXECUTOR_ID'),
    agentUrl,
    directory,
    sandbox: env.MESOS_SANDBOX ?? directory,
    checkpoint: env.MESOS_CHECKPOINT === '1',
    recoveryTimeoutMs: duration(env, 'MESOS_RECOVERY_TIMEOUT', 15 * 60_000),
    subscriptionBackoffMaxMs: duration(env, 'MESOS_SUBSCRIPTION_BACKOFF_MAX', 2000),
    shutdownGracePeriodMs: duration(env, 'MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD', 5000),
    authToken: authToken === '' ? undefined : authToken,
  };
}
