export { AcceptPlan, type AcceptPayload, type ExecutorNeeds, type TaskAllocation } from './accept.js';
export { fromMillis, toMillis } from './entries.js';
export {
  DEFAULT_REFUSE_SECONDS,
  DEFAULT_REVIVE_INTERVAL_MS,
  OfferHygiene,
  type HygieneCall,
  type HygieneDecision,
  type OfferHygieneOptions,
} from './hygiene.js';
export { allocationRole, isIndivisible, isReserved, reservationRole, resourceKindKey } from './kind.js';
export type { Allocation, FitFailure, FitResult, ResourceNeeds, Shortfall } from './needs.js';
export { OfferBook, type OfferGroup } from './offer-book.js';
export { OfferMismatchError, ResourcePool, offerRole, type PoolOptions } from './pool.js';
export {
  addRanges,
  countRanges,
  normalizeRanges,
  rangesContain,
  subtractRanges,
  type Interval,
} from './ranges.js';
export {
  addResources,
  containsResources,
  flattenResources,
  isEmptyResources,
  resourcesByAllocationRole,
  scalarTotal,
  sortByPreference,
  subtractResources,
} from './resources.js';
