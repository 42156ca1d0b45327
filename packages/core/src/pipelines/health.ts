/**
 * Health checks of a pipeline's processes: the spec, and a pure per-process state machine
 * `observe(state, result, now)` fed with the result of each check the server runs (HTTP, TCP or a
 * command; locally by Galley, on Mesos by the agent).
 *
 * States: `pending` (started, no success yet) → `healthy` ⇄ `failing` (1 ≤ consecutive failures <
 * threshold) → `unhealthy` (threshold reached: the instance is replaced; absorbing).
 * Failures before the first success are ignored during the grace period, as in Marathon and Mesos.
 */

/** A process's `health_check` as written in the pipeline spec (seconds; Marathon's names in snake_case). */
export interface HealthCheckSpec {
  protocol: 'HTTP' | 'TCP' | 'COMMAND';
  /** HTTP: the path to GET. Default `/`. */
  path?: string;
  /** HTTP/TCP: which of the process's `port_mappings` to check. Default 0. */
  port_index?: number;
  /** COMMAND: run through a shell; exit code 0 = healthy. */
  command?: string;
  /** Seconds between checks. Default 10. */
  interval_seconds?: number;
  /** Seconds a check may take before it counts as failed. Default 5. */
  timeout_seconds?: number;
  /** Seconds after start during which failures (before the first success) are ignored. Default 60. */
  grace_period_seconds?: number;
  /** Consecutive failures that make the process unhealthy. Default 3. */
  max_consecutive_failures?: number;
}

/** A health check with its defaults filled, in milliseconds. */
export interface HealthCheck {
  protocol: 'HTTP' | 'TCP' | 'COMMAND';
  path: string;
  portIndex: number;
  command: string | null;
  intervalMs: number;
  timeoutMs: number;
  gracePeriodMs: number;
  maxConsecutiveFailures: number;
}

export const DEFAULT_HEALTH_CHECK = Object.freeze({
  path: '/',
  port_index: 0,
  interval_seconds: 10,
  timeout_seconds: 5,
  grace_period_seconds: 60,
  max_consecutive_failures: 3,
});

/** Problems of a `health_check` (field names relative to it); `portCount` = the process's port mappings. */
export function healthCheckProblems(raw: unknown, portCount: number): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return [{ field: '', message: 'must be an object' }];
  const h = raw as Record<string, unknown>;
  if (h.protocol !== 'HTTP' && h.protocol !== 'TCP' && h.protocol !== 'COMMAND') {
    problems.push({ field: 'protocol', message: "must be 'HTTP', 'TCP' or 'COMMAND'" });
  }
  if (h.protocol === 'COMMAND' && (typeof h.command !== 'string' || h.command === '')) {
    problems.push({ field: 'command', message: 'is required for a COMMAND check' });
  }
  if (h.protocol === 'HTTP' || h.protocol === 'TCP') {
    const index = h.port_index ?? 0;
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= portCount) {
      problems.push({
        field: 'port_index',
        message: `must point at one of the process's ${portCount} port mappings`,
      });
    }
  }
  if (h.path !== undefined && (typeof h.path !== 'string' || !h.path.startsWith('/'))) {
    problems.push({ field: 'path', message: "must start with '/'" });
  }
  for (const [field, min] of [
    ['interval_seconds', 0.001],
    ['timeout_seconds', 0.001],
    ['grace_period_seconds', 0],
  ] as const) {
    const v = h[field];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= min)) {
      problems.push({ field, message: `must be a number of seconds ${min === 0 ? '≥ 0' : '> 0'}` });
    }
  }
  const failures = h.max_consecutive_failures;
  if (failures !== undefined && !(Number.isInteger(failures) && (failures as number) >= 1)) {
    problems.push({ field: 'max_consecutive_failures', message: 'must be a whole number ≥ 1' });
  }
  return problems;
}

/** The check with its defaults filled, in ms. The spec must have passed `healthCheckProblems`. */
export function resolveHealthCheck(spec: HealthCheckSpec): HealthCheck {
  const d = DEFAULT_HEALTH_CHECK;
  return {
    protocol: spec.protocol,
    path: spec.path ?? d.path,
    portIndex: spec.port_index ?? d.port_index,
    command: spec.command ?? null,
    intervalMs: (spec.interval_seconds ?? d.interval_seconds) * 1000,
    timeoutMs: (spec.timeout_seconds ?? d.timeout_seconds) * 1000,
    gracePeriodMs: (spec.grace_period_seconds ?? d.grace_period_seconds) * 1000,
    maxConsecutiveFailures: spec.max_consecutive_failures ?? d.max_consecutive_failures,
  };
}

export type HealthStatus = 'pending' | 'healthy' | 'failing' | 'unhealthy';

/** The result of one check. A timeout is `{ ok: false, message: 'timed out after 5 s' }`. */
export type CheckResult = { ok: true; message?: string } | { ok: false; message: string };

/** The health of one process (one launch of it). Times in ms since epoch. */
export interface HealthState {
  check: HealthCheck;
  /** When the process started: the grace period counts from here. */
  startedAt: number;
  status: HealthStatus;
  consecutiveFailures: number;
  /** When the last check result was observed; null before any. */
  lastCheckAt: number | null;
  lastResult: CheckResult | null;
  /** Healthy without interruption since; null when not healthy now. */
  healthySince: number | null;
  /** Whether any check has ever passed (ends the grace period early). */
  everHealthy: boolean;
}

/** A process just started: `pending`, first check due at once. */
export function newHealthState(check: HealthCheck, startedAt: number): HealthState {
  return {
    check,
    startedAt,
    status: 'pending',
    consecutiveFailures: 0,
    lastCheckAt: null,
    lastResult: null,
    healthySince: null,
    everHealthy: false,
  };
}

/**
 * The state after a check result observed at `now`. A result older than the last one observed is
 * ignored (the state is returned as is); `unhealthy` is absorbing.
 */
export function observe(state: HealthState, result: CheckResult, now: number): HealthState {
  if (state.status === 'unhealthy' || (state.lastCheckAt !== null && now < state.lastCheckAt)) return state;
  const seen = { ...state, lastCheckAt: now, lastResult: result };
  if (result.ok) {
    return {
      ...seen,
      status: 'healthy',
      consecutiveFailures: 0,
      healthySince: state.healthySince ?? now,
      everHealthy: true,
    };
  }
  const inGrace = !state.everHealthy && now < state.startedAt + state.check.gracePeriodMs;
  if (inGrace) return { ...seen, status: 'pending' };
  const failures = state.consecutiveFailures + 1;
  const status =
    failures >= state.check.maxConsecutiveFailures ? 'unhealthy' : state.everHealthy ? 'failing' : 'pending';
  return { ...seen, status, consecutiveFailures: failures, healthySince: null };
}

/** When the next check is due (ms since epoch); null once unhealthy (no more checks). */
export function nextCheckAt(state: HealthState): number | null {
  if (state.status === 'unhealthy') return null;
  return state.lastCheckAt === null ? state.startedAt : state.lastCheckAt + state.check.intervalMs;
}

/** An HTTP check passes on a status from 200 to 399 (Marathon's rule). */
export function isHealthyHttpStatus(status: number): boolean {
  return status >= 200 && status <= 399;
}

/**
 * The health of an instance from its processes' states (only the processes that have a check):
 * `unhealthy` if any is, else `failing` if any is, else `pending` if any is, else `healthy`.
 * `message` names the worst process and its last result, for people.
 */
export function combineHealth(processes: Record<string, HealthState>): {
  status: HealthStatus;
  message: string;
} {
  const order: HealthStatus[] = ['unhealthy', 'failing', 'pending'];
  for (const status of order) {
    const found = Object.entries(processes).find(([, s]) => s.status === status);
    if (found) {
      const [name, s] = found;
      const last = s.lastResult && !s.lastResult.ok ? `: ${s.lastResult.message}` : '';
      const n = s.consecutiveFailures;
      const count = n > 0 ? ` after ${n} failed ${s.check.protocol} check${n === 1 ? '' : 's'}` : '';
      return { status, message: `process ${name} is ${status}${count}${last}` };
    }
  }
  return { status: 'healthy', message: 'all health checks pass' };
}
