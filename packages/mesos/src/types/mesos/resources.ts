/**
 * Resources and their metadata (mesos.proto `Resource`, spec §6.2). Two entries are "the same
 * kind" (can be added or subtracted) only when name, type, allocation_info, reservation(s),
 * disk, revocable, shared and provider_id are all equal. When you put offered resources into a
 * task, copy the offered entry's metadata exactly and change only the quantity.
 */
import type { DiskSourceType, ReservationType, ValueType } from '../enums.js';
import type { AgentID, Labels, Ranges, ResourceProviderID, Scalar, ValueSet } from './common.js';
import type { Volume } from './containers.js';

/** `Resource.AllocationInfo`: which of a MULTI_ROLE framework's roles a resource is allocated to. */
export interface AllocationInfo {
  role?: string;
}

/**
 * `Resource.ReservationInfo`. In the legacy format (`Resource.reservation`) only `principal` and
 * `labels` are set; in the refinement format (`Resource.reservations[]`) `type` and `role` are too.
 */
export interface ReservationInfo {
  type?: ReservationType;
  role?: string;
  principal?: string;
  labels?: Labels;
}

/** `Resource.DiskInfo.Persistence`: a persistent volume's id (unique per role per agent). */
export interface DiskPersistence {
  id: string;
  principal?: string;
}

/** `Resource.DiskInfo.Source`: where a disk comes from. MOUNT/BLOCK are indivisible. */
export interface DiskSource {
  type: DiskSourceType;
  path?: { root?: string };
  mount?: { root?: string };
  id?: string;
  metadata?: Labels;
  profile?: string;
  vendor?: string;
}

/** `Resource.DiskInfo`. */
export interface DiskInfo {
  persistence?: DiskPersistence;
  volume?: Volume;
  source?: DiskSource;
}

/**
 * `Resource`. Reservation state comes in one of two formats (never mixed, spec §6.2):
 * - legacy (no RESERVATION_REFINEMENT): `role` (`"*"` = unreserved) plus `reservation` when
 *   dynamically reserved;
 * - refinement: `reservations` (absent or empty = unreserved; last entry = current reservation).
 */
export interface Resource {
  provider_id?: ResourceProviderID;
  name: string;
  type: ValueType;
  scalar?: Scalar;
  ranges?: Ranges;
  set?: ValueSet;
  /** Deprecated legacy format: `"*"` = unreserved, else the role it is reserved for. */
  role?: string;
  allocation_info?: AllocationInfo;
  /** Legacy format: present ⇔ dynamically reserved. */
  reservation?: ReservationInfo;
  /** Refinement format: the reservation stack. */
  reservations?: ReservationInfo[];
  disk?: DiskInfo;
  /** Present (as `{}`) ⇔ revocable. */
  revocable?: Record<string, never>;
  /** Present (as `{}`) ⇔ shared (shared persistent volumes). */
  shared?: Record<string, never>;
}

/** `ResourceQuantities`: `{"quantities": {"cpus": {"value": 1}, "mem": {"value": 256}}}`. */
export interface ResourceQuantities {
  quantities?: Record<string, Scalar>;
}

/** `OfferFilters`: per-role offer shaping (FrameworkInfo.offer_filters). */
export interface OfferFilters {
  min_allocatable_resources?: { quantities?: ResourceQuantities[] };
}

/**
 * `Filters` for ACCEPT/DECLINE: `refuse_seconds` defaults to 5; negative = default; capped at
 * 365 days; 0 = no filter.
 */
export interface Filters {
  refuse_seconds?: number;
}

/** `Request` (REQUEST call; ignored by the built-in allocator). */
export interface Request {
  agent_id?: AgentID;
  resources?: Resource[];
}

/** `TaskResourceLimitation`: which resource limit a task exceeded. */
export interface TaskResourceLimitation {
  resources?: Resource[];
}
