import type { Resource } from '../../types/index.js';

/**
 * What makes two Mesos `Resource` entries "the same kind" (spec §6.2): only entries of one kind can
 * be added to or subtracted from each other, and an entry put into a TaskInfo must carry the
 * metadata of the offered entry it was cut from.
 */

/** The quantity fields of a Resource; everything else is metadata. */
const QUANTITY_FIELDS = new Set(['scalar', 'ranges', 'set', 'text']);

/**
 * A string that is equal for two resources exactly when their name, type, `allocation_info`,
 * reservation state (legacy `role` + `reservation`, or refinement `reservations`), `disk`,
 * `revocable`, `shared` and `provider_id` are all equal. An unset legacy `role`, `role: "*"` and an
 * empty `reservations` list all mean "unreserved" and give the same key. Key order inside nested
 * objects does not matter.
 */
export function resourceKindKey(resource: Resource): string {
  return canonicalJson([
    resource.name,
    resource.type,
    resource.allocation_info?.role ?? null,
    reservationIdentity(resource),
    resource.disk ?? null,
    resource.revocable !== undefined,
    resource.shared !== undefined,
    resource.provider_id?.value ?? null,
  ]);
}

/**
 * The role a resource is reserved for, or `undefined` when it is unreserved. Refinement format:
 * the role of the last (innermost) entry of `reservations`; legacy format: `role` unless it is `"*"`.
 */
export function reservationRole(resource: Resource): string | undefined {
  const stack = resource.reservations;
  if (stack !== undefined && stack.length > 0) return stack[stack.length - 1]?.role;
  if (resource.role !== undefined && resource.role !== '*') return resource.role;
  return undefined;
}

/** True when the resource is reserved (statically or dynamically) in either format. */
export function isReserved(resource: Resource): boolean {
  return reservationRole(resource) !== undefined;
}

/**
 * The role the resource was allocated to (`allocation_info.role`), or `undefined` when the offer
 * carried no allocation info (a framework without MULTI_ROLE).
 */
export function allocationRole(resource: Resource): string | undefined {
  return resource.allocation_info?.role;
}

/**
 * True for resources that cannot be split: MOUNT and BLOCK disks, non-shared persistent volumes,
 * and shared resources (which Mesos counts as whole units). They are only ever added, subtracted
 * or handed out whole.
 */
export function isIndivisible(resource: Resource): boolean {
  const source = resource.disk?.source?.type;
  if (source === 'MOUNT' || source === 'BLOCK') return true;
  if (resource.shared !== undefined) return true;
  return resource.disk?.persistence !== undefined;
}

/**
 * True for resources a generic quantity need (e.g. "512 MB of disk") may be cut from: not a
 * persistent volume, not a volume, not shared, not an indivisible disk.
 */
export function isPlainQuantity(resource: Resource): boolean {
  if (isIndivisible(resource)) return false;
  return resource.disk?.volume === undefined;
}

/** A copy of the resource without its quantity (`scalar`, `ranges`, `set`): its metadata only. */
export function resourceTemplate(resource: Resource): Resource {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) {
    if (!QUANTITY_FIELDS.has(k) && v !== undefined) out[k] = v;
  }
  return out as unknown as Resource;
}

function reservationIdentity(resource: Resource): unknown {
  const stack = resource.reservations;
  if (stack !== undefined && stack.length > 0) return { reservations: stack };
  if (resource.role !== undefined && resource.role !== '*') {
    return { role: resource.role, reservation: resource.reservation ?? null };
  }
  return null;
}

/** JSON with object keys sorted, so equal structures give equal strings. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
