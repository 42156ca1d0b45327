import { formatCppDouble } from '../wire/mesos-json.js';
import { arrayField, numberField } from '../wire/call-parsing.js';
import type { JsonObject } from '../model/world.js';

/**
 * FrameworkInfo checks the master makes after a SUBSCRIBE stream opened (errors become an ERROR
 * event followed by EOF), and the facts the fake reads from a FrameworkInfo.
 */

/** The capability names of a FrameworkInfo. */
export function capabilitiesOf(info: JsonObject): Set<string> {
  const out = new Set<string>();
  for (const capability of arrayField(info, 'capabilities')) {
    const type = (capability as { type?: unknown } | null)?.type;
    if (typeof type === 'string') out.add(type);
  }
  return out;
}

/** The roles a framework subscribes with: `roles` for MULTI_ROLE, else `[role ?? "*"]`. */
export function rolesOf(info: JsonObject, capabilities: ReadonlySet<string>): string[] {
  if (capabilities.has('MULTI_ROLE'))
    return arrayField(info, 'roles').filter((r): r is string => typeof r === 'string');
  return [typeof info.role === 'string' ? info.role : '*'];
}

/** `failover_timeout` in milliseconds (absent, zero or negative → 0). */
export function failoverTimeoutMs(info: JsonObject): number {
  const seconds = numberField(info, 'failover_timeout') ?? 0;
  return seconds > 0 ? seconds * 1000 : 0;
}

/** Mesos' `roles::validate`; returns the reason a role is invalid, or undefined. */
export function roleError(role: string): string | undefined {
  if (role === '*') return undefined;
  if (role === '') return 'Empty role name is invalid';
  if (role.startsWith('/')) return `Role '${role}' cannot start with a slash`;
  if (role.endsWith('/')) return `Role '${role}' cannot end with a slash`;
  for (const component of role.split('/')) {
    if (component === '') return `Role '${role}' cannot contain two adjacent slashes`;
    if (component === '.' || component === '..')
      return `Role '${role}' cannot include '${component}' as a path component`;
    if (component === '*') return `Role '${role}' cannot include '*' as a path component`;
    if (component.startsWith('-'))
      return `Role component '${component}' is invalid because it starts with a dash`;
    // eslint-disable-next-line no-control-regex
    if (/[\s\x00-\x1f\x7f]/.test(component)) {
      return `Role component '${component}' is invalid because it contains backspace or whitespace`;
    }
  }
  return undefined;
}

/** The error Mesos sends as an ERROR event for this FrameworkInfo, or undefined when it is valid. */
export function frameworkInfoError(info: JsonObject, capabilities: ReadonlySet<string>): string | undefined {
  const multiRole = capabilities.has('MULTI_ROLE');
  const roles = arrayField(info, 'roles');
  if (multiRole && info.role !== undefined && info.role !== null) {
    return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable";
  }
  if (!multiRole && roles.length > 0) {
    return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable";
  }
  if (multiRole) {
    const seen = new Set<string>();
    const duplicates = new Set<string>();
    for (const role of roles) {
      const name = String(role);
      if (seen.has(name)) duplicates.add(name);
      seen.add(name);
    }
    if (duplicates.size > 0)
      return `'FrameworkInfo.roles' contains duplicate items: { ${[...duplicates].join(', ')} }`;
    for (const role of roles) {
      const error = roleError(String(role));
      if (error !== undefined) return `'FrameworkInfo.roles' contains invalid role: ${error}`;
    }
  } else {
    const error = roleError(typeof info.role === 'string' ? info.role : '*');
    if (error !== undefined) return `'FrameworkInfo.role' is not a valid role: ${error}`;
  }
  const failover = numberField(info, 'failover_timeout');
  // Duration::create fails when the value does not fit int64 nanoseconds (about 9.22e9 seconds).
  if (failover !== undefined && !(Math.abs(failover) * 1e9 <= 2 ** 63)) {
    return `The framework failover_timeout (${formatCppDouble(failover)}) is invalid`;
  }
  return undefined;
}
