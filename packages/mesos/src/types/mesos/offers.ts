/** Offers, inverse offers and offer operations (mesos.proto `Offer`, spec §6), and the agent's `AgentInfo`. */
import type { AgentCapabilityType, DiskSourceType } from '../enums.js';
import type {
  AgentID,
  Attribute,
  DomainInfo,
  ExecutorID,
  FrameworkID,
  OfferID,
  OperationID,
  Scalar,
  Unavailability,
  URL,
} from './common.js';
import type { AllocationInfo, Resource } from './resources.js';
import type { ExecutorInfo, TaskGroupInfo, TaskInfo } from './tasks.js';

/** `AgentInfo`. `port` defaults to 5051. */
export interface AgentInfo {
  hostname: string;
  port?: number;
  resources?: Resource[];
  attributes?: Attribute[];
  id?: AgentID;
  domain?: DomainInfo;
  capabilities?: { type?: AgentCapabilityType }[];
}

/**
 * `Offer`: resources of ONE agent allocated to ONE role (`allocation_info`, MULTI_ROLE only).
 * Valid until used in one ACCEPT/DECLINE, rescinded, or the subscription drops.
 */
export interface Offer {
  id: OfferID;
  framework_id: FrameworkID;
  agent_id: AgentID;
  hostname: string;
  url?: URL;
  domain?: DomainInfo;
  resources?: Resource[];
  attributes?: Attribute[];
  /** This framework's executors already running on the agent. */
  executor_ids?: ExecutorID[];
  unavailability?: Unavailability;
  allocation_info?: AllocationInfo;
}

/** `InverseOffer`: a maintenance request to vacate an agent (spec §6.8). */
export interface InverseOffer {
  id: OfferID;
  url?: URL;
  framework_id: FrameworkID;
  agent_id?: AgentID;
  unavailability: Unavailability;
  /** Empty ⇒ everything on the agent. */
  resources?: Resource[];
}

/** `Offer.Operation.Launch`. */
export interface LaunchOperation {
  task_infos?: TaskInfo[];
}
/** `Offer.Operation.LaunchGroup`: `executor.type` and `executor.framework_id` are required. */
export interface LaunchGroupOperation {
  executor: ExecutorInfo;
  task_group: TaskGroupInfo;
}

interface OperationBase {
  /** Requests operation feedback; NOT allowed on LAUNCH/LAUNCH_GROUP (spec §6.6). */
  id?: OperationID;
}

/**
 * `Offer.Operation`, discriminated on `type`; each variant carries the field named after its
 * type. Operations in one ACCEPT are applied in order.
 */
export type OfferOperation =
  | (OperationBase & { type: 'LAUNCH'; launch: LaunchOperation })
  | (OperationBase & { type: 'LAUNCH_GROUP'; launch_group: LaunchGroupOperation })
  | (OperationBase & { type: 'RESERVE'; reserve: { source?: Resource[]; resources?: Resource[] } })
  | (OperationBase & { type: 'UNRESERVE'; unreserve: { resources?: Resource[] } })
  | (OperationBase & { type: 'CREATE'; create: { volumes?: Resource[] } })
  | (OperationBase & { type: 'DESTROY'; destroy: { volumes?: Resource[] } })
  | (OperationBase & { type: 'GROW_VOLUME'; grow_volume: { volume: Resource; addition: Resource } })
  | (OperationBase & { type: 'SHRINK_VOLUME'; shrink_volume: { volume: Resource; subtract: Scalar } })
  | (OperationBase & {
      type: 'CREATE_DISK';
      create_disk: { source: Resource; target_type: DiskSourceType; target_profile?: string };
    })
  | (OperationBase & { type: 'DESTROY_DISK'; destroy_disk: { source: Resource } });
