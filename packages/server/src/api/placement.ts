import { CoreInputError, parseConstraint } from '@galley/core';
import type {
  DefinitionPlacement,
  DefinitionRecord,
  HealthCheckSpec,
  RunPlacement,
} from '../model/records.js';
import { ApiError } from './errors.js';
import type { HealthCheckBody } from './schemas/placement.js';

/**
 * Placement fields of definitions, executes and runs: the Mesos role, agent attribute
 * constraints, disk and a health check. The local backend ignores them; Mesos clusters place
 * and check runs by them. Their schemas are in ./schemas/placement.ts.
 */

interface PlacementBody {
  role?: string;
  constraints?: string[];
  disk?: number;
  health_check?: HealthCheckBody;
}

/**
 * A definition's placement as stored, plus the deadline of its runs: the definitions table has no
 * column of its own for `active_deadline_seconds`, so it is kept in the placement's JSON (where
 * unknown keys survive a round trip). Read it with definitionDeadline.
 */
type StoredPlacement = DefinitionPlacement & { activeDeadlineSeconds?: number | null };

/** The deadline (seconds) of a definition's runs, when the definition has one; null otherwise. */
export function definitionDeadline(d: Pick<DefinitionRecord, 'placement'>): number | null {
  const seconds = (d.placement as StoredPlacement | undefined)?.activeDeadlineSeconds;
  return typeof seconds === 'number' ? seconds : null;
}

/** Throws ApiError 422 for a constraint that does not parse. */
function checkConstraints(list: readonly string[], field: string): string[] {
  return list.map((text, i) => {
    try {
      parseConstraint(text);
      return text.trim();
    } catch (err) {
      if (!(err instanceof CoreInputError)) throw err;
      throw new ApiError(422, 'INVALID_CONSTRAINT', `constraint "${text}": ${err.message}`, {
        [`body.${field}.${i}`]: 'expected attribute:value, attribute!=value or attribute in a,b',
      });
    }
  });
}

function healthCheckOf(b: HealthCheckBody): HealthCheckSpec {
  const spec: HealthCheckSpec = { protocol: b.protocol };
  if (b.path !== undefined) spec.path = b.path;
  if (b.port_index !== undefined) spec.portIndex = b.port_index;
  if (b.command !== undefined) spec.command = b.command;
  if (b.delay_seconds !== undefined) spec.delaySeconds = b.delay_seconds;
  if (b.interval_seconds !== undefined) spec.intervalSeconds = b.interval_seconds;
  if (b.timeout_seconds !== undefined) spec.timeoutSeconds = b.timeout_seconds;
  if (b.grace_period_seconds !== undefined) spec.gracePeriodSeconds = b.grace_period_seconds;
  if (b.max_consecutive_failures !== undefined) spec.maxConsecutiveFailures = b.max_consecutive_failures;
  return spec;
}

function healthCheckBody(h: HealthCheckSpec): HealthCheckBody {
  return {
    protocol: h.protocol,
    ...(h.path !== undefined ? { path: h.path } : {}),
    ...(h.portIndex !== undefined ? { port_index: h.portIndex } : {}),
    ...(h.command !== undefined ? { command: h.command } : {}),
    ...(h.delaySeconds !== undefined ? { delay_seconds: h.delaySeconds } : {}),
    ...(h.intervalSeconds !== undefined ? { interval_seconds: h.intervalSeconds } : {}),
    ...(h.timeoutSeconds !== undefined ? { timeout_seconds: h.timeoutSeconds } : {}),
    ...(h.gracePeriodSeconds !== undefined ? { grace_period_seconds: h.gracePeriodSeconds } : {}),
    ...(h.maxConsecutiveFailures !== undefined ? { max_consecutive_failures: h.maxConsecutiveFailures } : {}),
  };
}

/**
 * The placement of a definition from a create body, or (with `before`) an update body whose
 * given fields replace the stored ones (`active_deadline_seconds: null` clears the deadline).
 * Undefined when nothing is set. Throws ApiError 422.
 */
export function definitionPlacement(
  body: PlacementBody & { active_deadline_seconds?: number | null },
  before?: DefinitionPlacement,
): DefinitionPlacement | undefined {
  const given =
    body.role !== undefined ||
    body.constraints !== undefined ||
    body.disk !== undefined ||
    body.health_check !== undefined ||
    body.active_deadline_seconds !== undefined;
  if (!given) return before;
  const deadline =
    body.active_deadline_seconds !== undefined
      ? body.active_deadline_seconds
      : before
        ? definitionDeadline({ placement: before })
        : null;
  const placement: StoredPlacement = {
    role: body.role ?? before?.role ?? null,
    constraints:
      body.constraints !== undefined
        ? checkConstraints(body.constraints, 'constraints')
        : (before?.constraints ?? []),
    diskMb: body.disk ?? before?.diskMb ?? 0,
    healthCheck: body.health_check ? healthCheckOf(body.health_check) : (before?.healthCheck ?? null),
    ...(deadline !== null ? { activeDeadlineSeconds: deadline } : {}),
  };
  return placement;
}

/** A run's placement: the definition's with the execute's overrides, and its ports. Throws ApiError 422. */
export function runPlacement(def: DefinitionRecord, body: PlacementBody): RunPlacement | undefined {
  const p = def.placement;
  const given = body.role !== undefined || body.constraints !== undefined || body.disk !== undefined;
  if (!p && !given && def.ports.length === 0) return undefined;
  return {
    role: body.role ?? p?.role ?? null,
    constraints:
      body.constraints !== undefined
        ? checkConstraints(body.constraints, 'constraints')
        : (p?.constraints ?? []),
    diskMb: body.disk ?? p?.diskMb ?? 0,
    healthCheck: p?.healthCheck ?? null,
    ports: [...def.ports],
  };
}

/** The answer fields of a definition's placement. */
export function presentDefinitionPlacement(p: DefinitionPlacement | undefined) {
  return {
    role: p?.role ?? null,
    constraints: p?.constraints ?? [],
    disk: p?.diskMb ?? 0,
    health_check: p?.healthCheck ? healthCheckBody(p.healthCheck) : null,
  };
}

/** The answer fields of a run's placement. */
export function presentRunPlacement(p: RunPlacement | undefined) {
  return {
    role: p?.role ?? null,
    constraints: p?.constraints ?? [],
    disk: p?.diskMb ?? 0,
    ports: p?.ports ?? [],
  };
}
