/** `FrameworkInfo` (mesos.proto), what a scheduler says about itself on SUBSCRIBE (spec §1.2). */
import type { FrameworkCapabilityType } from '../enums.js';
import type { FrameworkID, Labels } from './common.js';
import type { OfferFilters } from './resources.js';

/** `FrameworkInfo.Capability`. */
export interface FrameworkCapability {
  type?: FrameworkCapabilityType;
}

/**
 * `FrameworkInfo`. Mesos' own defaults are dangerous: `failover_timeout` 0 kills every task as
 * soon as the connection drops and `checkpoint` false loses tasks on agent restarts; the
 * scheduler client of this package sets one week and `true` unless told otherwise.
 */
export interface FrameworkInfo {
  /** Unix user for tasks; required on the HTTP API. Immutable after the first SUBSCRIBE. */
  user: string;
  name: string;
  /** Unset on the first SUBSCRIBE; the assigned id on every later one. */
  id?: FrameworkID;
  /** Seconds the master keeps the framework after its connection drops. */
  failover_timeout?: number;
  checkpoint?: boolean;
  /** Deprecated single role; never together with the MULTI_ROLE capability. */
  role?: string;
  /** Roles (requires MULTI_ROLE). */
  roles?: string[];
  hostname?: string;
  principal?: string;
  webui_url?: string;
  capabilities?: FrameworkCapability[];
  labels?: Labels;
  /** Per-role offer filters, keyed by role. */
  offer_filters?: Record<string, OfferFilters>;
}
