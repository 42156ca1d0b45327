import type { Timers } from '../model/timers.js';
import type { JsonObject } from '../model/world.js';
import { arrayField, numberField, objectField } from '../wire/call-parsing.js';

/**
 * `TaskInfo.health_check` as Mesos' built-in executors run it (the command executor for LAUNCH,
 * the default executor for LAUNCH_GROUP tasks), after Mesos' `HealthChecker`:
 *
 * - the first check `delay_seconds` after the task started, the next `interval_seconds` after the
 *   previous one ended; a check that takes longer than `timeout_seconds` fails (0 = no timeout);
 * - a success is reported (`healthy: true`) when it is the first one, or the first after failures;
 * - a failure before the first success, while still within `grace_period_seconds` of the start,
 *   is ignored; any other failure is counted and reported (`healthy: false`) — every time, not
 *   only the first — and the `consecutive_failures`-th one asks the executor to kill the task.
 *
 * Durations are seconds in the TaskInfo (fractions allowed, as the JSON double allows) and
 * milliseconds here.
 */

/** A TaskInfo's health check with Mesos' defaults filled in; durations in milliseconds. */
export interface HealthCheckPlan {
  readonly type: 'HTTP' | 'TCP' | 'COMMAND';
  /** Before the first check (default 15 s). */
  readonly delayMs: number;
  /** From the end of one check to the start of the next (default 10 s). */
  readonly intervalMs: number;
  /** A check still running after this fails; 0 = no timeout (default 20 s). */
  readonly timeoutMs: number;
  /** From the start: failures before the first success do not count (default 10 s). */
  readonly gracePeriodMs: number;
  /** Counted failures in a row that kill the task (default 3). */
  readonly consecutiveFailures: number;
  /** HTTP: GET `<scheme>://127.0.0.1:<port><path>`; `statuses` empty = 200–399 pass. */
  readonly http: { port: number; path: string; scheme: 'http' | 'https'; statuses: number[] } | undefined;
  /** TCP: a connection to 127.0.0.1:`port` passes. */
  readonly tcp: { port: number } | undefined;
  /** COMMAND: the CommandInfo to run; exit code 0 passes. */
  readonly command: JsonObject | undefined;
}

/** Mesos' `HealthCheck` defaults (mesos.proto), in seconds. */
const DEFAULTS = {
  delay_seconds: 15,
  interval_seconds: 10,
  timeout_seconds: 20,
  grace_period_seconds: 10,
  consecutive_failures: 3,
};

/** The health check of a TaskInfo, or undefined when it has none or one the fake cannot run. */
export function healthCheckOf(info: JsonObject): HealthCheckPlan | undefined {
  const check = objectField(info, 'health_check');
  if (check === undefined) return undefined;
  const seconds = (key: keyof typeof DEFAULTS): number => {
    const value = numberField(check, key) ?? DEFAULTS[key];
    return Number.isFinite(value) && value > 0 ? value * 1000 : 0;
  };
  const type = check.type;
  const http = objectField(check, 'http');
  const tcp = objectField(check, 'tcp');
  const command = objectField(check, 'command');
  const plan = {
    delayMs: seconds('delay_seconds'),
    intervalMs: seconds('interval_seconds'),
    timeoutMs: seconds('timeout_seconds'),
    gracePeriodMs: seconds('grace_period_seconds'),
    consecutiveFailures: Math.max(1, Math.floor(numberField(check, 'consecutive_failures') ?? 3)),
    http: undefined,
    tcp: undefined,
    command: undefined,
  };
  if (type === 'HTTP' && http !== undefined) {
    const port = numberField(http, 'port');
    if (port === undefined) return undefined;
    return {
      ...plan,
      type,
      http: {
        port,
        path: typeof http.path === 'string' ? http.path : '/',
        scheme: http.scheme === 'https' ? 'https' : 'http',
        statuses: arrayField(http, 'statuses').map(Number).filter(Number.isInteger),
      },
    };
  }
  if (type === 'TCP' && tcp !== undefined) {
    const port = numberField(tcp, 'port');
    return port === undefined ? undefined : { ...plan, type, tcp: { port } };
  }
  if (type === 'COMMAND' && command !== undefined) return { ...plan, type, command };
  return undefined;
}

/**
 * Runs one check. Resolves true when it passed; false when it failed or `signal` aborted it (the
 * timeout). Never rejects.
 */
export type HealthProbe = (signal: AbortSignal) => Promise<boolean>;

/** What the checker tells the executor after a check that changes or confirms a verdict. */
export interface HealthVerdict {
  readonly healthy: boolean;
  /** Counted failures in a row reached `consecutive_failures`: the executor kills the task. */
  readonly killTask: boolean;
}

/** A running health checker. */
export interface HealthChecker {
  /** No further checks or verdicts; a check in flight is aborted. Idempotent. */
  stop(): void;
}

/**
 * Starts checking now: `probe` after `delayMs`, then every `intervalMs` after each check ended;
 * `report` gets the verdicts described at the top of this file. `now` is milliseconds (Date.now).
 */
export function startHealthChecker(
  timers: Timers,
  plan: HealthCheckPlan,
  probe: HealthProbe,
  report: (verdict: HealthVerdict) => void,
  now: () => number = Date.now,
): HealthChecker {
  const startedAt = now();
  let initializing = true;
  let failures = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | undefined;

  const judge = (passed: boolean): void => {
    if (passed) {
      if (initializing || failures > 0) report({ healthy: true, killTask: false });
      initializing = false;
      failures = 0;
      return;
    }
    if (initializing && plan.gracePeriodMs > 0 && now() - startedAt <= plan.gracePeriodMs) return;
    failures++;
    report({ healthy: false, killTask: failures >= plan.consecutiveFailures });
  };
  const check = (): void => {
    timer = undefined;
    const controller = new AbortController();
    inFlight = controller;
    const deadline = plan.timeoutMs > 0 ? timers.after(plan.timeoutMs, () => controller.abort()) : undefined;
    void probe(controller.signal)
      .catch(() => false)
      .then((passed) => {
        timers.cancel(deadline);
        inFlight = undefined;
        if (stopped) return;
        judge(passed && !controller.signal.aborted);
        if (!stopped) timer = timers.after(plan.intervalMs, check);
      });
  };
  timer = timers.after(plan.delayMs, check);
  return {
    stop: () => {
      stopped = true;
      timers.cancel(timer);
      timer = undefined;
      inFlight?.abort();
    },
  };
}
