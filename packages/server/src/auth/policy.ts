import { readFileSync } from 'node:fs';

/** What a route may need (the route option `config.permission`). */
export const PERMISSIONS = ['read', 'define', 'run', 'stop', 'logs', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Who makes a request: a subject (a run's owner, the audit's "who") and its groups. */
export interface Principal {
  subject: string;
  groups: string[];
  /** How it was authenticated: `none` (auth mode none), an API `token`, a `jwt`, the `bootstrap` token. */
  via: 'none' | 'token' | 'jwt' | 'bootstrap';
  /** The key of its rate limit and stream cap (the token's id, or `jwt:<subject>`). */
  key: string;
}

/** Members of `groups` get `permissions` on resources of the groups `on` (`*` = every group, and resources of none). */
export interface Grant {
  groups: string[];
  permissions: Permission[];
  on: string[];
}

/**
 * Who may do what (README "Authentication and authorization"). A resource (a definition, a run) is
 * of a group: the definition's `group_name`. Resources of no group (pipelines, tokens, the audit)
 * count as the group `*`.
 */
export interface Policy {
  /** Members of these groups may do everything. */
  adminGroups: string[];
  /** Any authenticated principal may `read` everything. */
  authenticatedRead: boolean;
  /** What a member of group G may do on the resources of group G. */
  memberPermissions: Permission[];
  /** What the owner of a run may do on it. */
  ownerPermissions: Permission[];
  grants: Grant[];
}

export const DEFAULT_POLICY: Policy = {
  adminGroups: ['admin'],
  authenticatedRead: true,
  memberPermissions: ['read', 'define', 'run', 'stop', 'logs'],
  ownerPermissions: ['read', 'stop', 'logs'],
  grants: [],
};

/** The resource a request acts on: its groups (a definition moved to another group has two) and a run's owner. */
export interface Resource {
  /** Empty = a resource of no group (or one not found): needs the permission on `*`. */
  groups: string[];
  owner?: string;
}

/** Whether `p` may use `permission` on one group (`*` = the permission everywhere). */
function allowedOn(policy: Policy, p: Principal, permission: Permission, group: string): boolean {
  const member = (groups: string[]) => groups.some((g) => p.groups.includes(g));
  if (p.via === 'none' || p.via === 'bootstrap' || member(policy.adminGroups)) return true;
  if (permission === 'read' && policy.authenticatedRead) return true;
  if (group !== '*' && p.groups.includes(group) && policy.memberPermissions.includes(permission)) return true;
  return policy.grants.some(
    (g) =>
      member(g.groups) && g.permissions.includes(permission) && (g.on.includes('*') || g.on.includes(group)),
  );
}

/**
 * Whether `p` may use `permission` on `resource`: on each of its groups (or `*`), or as the owner of
 * a run. Answers null when allowed, else the group the permission is missing on.
 */
export function denied(
  policy: Policy,
  p: Principal,
  permission: Permission,
  resource: Resource,
): string | null {
  if (
    resource.owner !== undefined &&
    resource.owner === p.subject &&
    policy.ownerPermissions.includes(permission)
  )
    return null;
  const groups = resource.groups.length ? resource.groups : ['*'];
  return groups.find((g) => !allowedOn(policy, p, permission, g)) ?? null;
}

const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 256);
const isPermissions = (v: unknown): v is Permission[] =>
  Array.isArray(v) && v.every((s) => (PERMISSIONS as readonly unknown[]).includes(s));

/** The policy of a JSON file (keys left out keep DEFAULT_POLICY's); throws naming the bad key. */
export function loadPolicy(path: string | null): Policy {
  if (path === null) return DEFAULT_POLICY;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`auth policy file ${path}: ${(err as Error).message}`);
  }
  const bad = (key: string, what: string) => new Error(`auth policy file ${path}: ${key} must be ${what}`);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('the file', 'a JSON object');
  const o = raw as Record<string, unknown>;
  const known = ['adminGroups', 'authenticatedRead', 'memberPermissions', 'ownerPermissions', 'grants'];
  const unknown = Object.keys(o).find((k) => !known.includes(k));
  if (unknown) throw bad(`"${unknown}"`, `one of ${known.join(', ')}`);
  const policy = { ...DEFAULT_POLICY };
  if ('adminGroups' in o) {
    if (!isStrings(o['adminGroups'])) throw bad('adminGroups', 'an array of group names');
    policy.adminGroups = o['adminGroups'];
  }
  if ('authenticatedRead' in o) {
    if (typeof o['authenticatedRead'] !== 'boolean') throw bad('authenticatedRead', 'true or false');
    policy.authenticatedRead = o['authenticatedRead'];
  }
  for (const key of ['memberPermissions', 'ownerPermissions'] as const) {
    if (!(key in o)) continue;
    const v = o[key];
    if (!isPermissions(v)) throw bad(key, `an array of ${PERMISSIONS.join(', ')}`);
    policy[key] = v;
  }
  if ('grants' in o) {
    const grants = o['grants'];
    if (!Array.isArray(grants)) throw bad('grants', 'an array');
    policy.grants = grants.map((g: unknown, i) => {
      const r = (g ?? {}) as Record<string, unknown>;
      if (!isStrings(r['groups'])) throw bad(`grants[${i}].groups`, 'an array of group names');
      if (!isPermissions(r['permissions']))
        throw bad(`grants[${i}].permissions`, `an array of ${PERMISSIONS.join(', ')}`);
      if (!isStrings(r['on'])) throw bad(`grants[${i}].on`, 'an array of group names (or "*")');
      return { groups: r['groups'], permissions: r['permissions'], on: r['on'] };
    });
  }
  return policy;
}
