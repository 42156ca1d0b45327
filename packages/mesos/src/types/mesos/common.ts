/**
 * The small building blocks of mesos.proto (v1): ids, numbers with their JSON encodings, time,
 * addresses, values and labels. Field names are the exact snake_case `.proto` names; a field
 * marked optional (`?`) may be absent on the wire, and absent means "not set" (Mesos never
 * writes `null`).
 */
import type {
  EnvironmentVariableType,
  MachineMode,
  SecretType,
  ValueType,
  MasterCapabilityType,
} from '../enums.js';

/**
 * A protobuf int64/uint64. Mesos writes it as a JSON number; values beyond 2^53 (for example
 * `TimeInfo.nanoseconds` ≈ 1.8e18) do not fit a JS number, so the decoder (`decodeJson`) yields a
 * `bigint` for integers outside `Number.MAX_SAFE_INTEGER` and a `number` otherwise. The encoder
 * (`encodeJson`) writes a `bigint` beyond 2^53 as a decimal string, which Mesos parses exactly.
 */
export type Int64 = number | bigint;

/**
 * A protobuf `bytes` field: standard base64 with `=` padding (spec §0). Copy values you received
 * verbatim (for example a status `uuid` into ACKNOWLEDGE).
 */
export type Base64 = string;

/** `FrameworkID`: assigned by the master on the first SUBSCRIBE. */
export interface FrameworkID {
  value: string;
}
/** `OfferID`: also used for inverse offers. Single use. */
export interface OfferID {
  value: string;
}
/** `AgentID`: changes whenever an agent registers anew. */
export interface AgentID {
  value: string;
}
/** `TaskID`: chosen by the framework; unique among its live tasks. */
export interface TaskID {
  value: string;
}
/** `ExecutorID`: chosen by the framework (the task id for command tasks). */
export interface ExecutorID {
  value: string;
}
/** `ContainerID`: chosen by the agent; `parent` is set for nested containers (task groups). */
export interface ContainerID {
  value: string;
  parent?: ContainerID;
}
/** `ResourceProviderID`. */
export interface ResourceProviderID {
  value: string;
}
/** `OperationID`: chosen by the framework to get operation feedback. */
export interface OperationID {
  value: string;
}

/** `UUID` message: 16 raw bytes, base64 in JSON (used by operation status updates, spec §9.5). */
export interface UUIDMessage {
  value: Base64;
}

/** `TimeInfo`: nanoseconds since the Unix epoch. */
export interface TimeInfo {
  nanoseconds: Int64;
}
/** `DurationInfo`: a duration in nanoseconds. */
export interface DurationInfo {
  nanoseconds: Int64;
}

/** `Address`: a hostname, an IP, or both, and a port. */
export interface Address {
  hostname?: string;
  ip?: string;
  port: number;
}

/** `Parameter`: a key/value pair. */
export interface Parameter {
  key: string;
  value: string;
}
/** `Parameters`. */
export interface Parameters {
  parameter?: Parameter[];
}

/** `URL` (for example an agent's `/slave(1)` endpoint in an offer). */
export interface URL {
  scheme: string;
  address: Address;
  path?: string;
  query?: Parameter[];
  fragment?: string;
}

/** `Label`: free-form metadata; `value` may be absent. */
export interface Label {
  key: string;
  value?: string;
}
/** `Labels`: `{"labels": [{"key","value"}]}`; no duplicate pairs. */
export interface Labels {
  labels?: Label[];
}

/** `DomainInfo`: the fault domain (region and zone) of a master or agent. */
export interface DomainInfo {
  fault_domain?: {
    region: { name: string };
    zone: { name: string };
  };
}

/** `Unavailability`: a maintenance window; no `duration` means forever. */
export interface Unavailability {
  start: TimeInfo;
  duration?: DurationInfo;
}

/** `MachineID`: a machine by hostname and/or ip. */
export interface MachineID {
  hostname?: string;
  ip?: string;
}
/** `MachineInfo`. */
export interface MachineInfo {
  id: MachineID;
  mode?: MachineMode;
  unavailability?: Unavailability;
}

/**
 * `Value.Scalar`: a double, kept by Mesos with three decimal digits of precision. `value` may be
 * `Infinity` (Mesos writes a bare `Infinity`; the encoder sends the string `"Infinity"`), for
 * example in `TaskInfo.limits`.
 */
export interface Scalar {
  value: number;
}
/** `Value.Range`: inclusive bounds. */
export interface Range {
  begin: Int64;
  end: Int64;
}
/** `Value.Ranges`: non-overlapping inclusive ranges. */
export interface Ranges {
  range?: Range[];
}
/** `Value.Set`: distinct items. */
export interface ValueSet {
  item?: string[];
}
/** `Value.Text`. */
export interface Text {
  value: string;
}
/** `Value`: the protobuf "union" of a scalar, ranges, set or text selected by `type`. */
export interface Value {
  type: ValueType;
  scalar?: Scalar;
  ranges?: Ranges;
  set?: ValueSet;
  text?: Text;
}

/** `Attribute`: an agent attribute (e.g. `zone: a`, written by Mesos 1.12 as TEXT). */
export interface Attribute {
  name: string;
  type: ValueType;
  scalar?: Scalar;
  ranges?: Ranges;
  set?: ValueSet;
  text?: Text;
}

/** `Secret`: by reference (resolved by a module) or by value. */
export interface Secret {
  type?: SecretType;
  reference?: { name: string; key?: string };
  value?: { data: Base64 };
}

/** `Environment.Variable`: exactly one of `value` / `secret`; `type` defaults to VALUE. */
export interface EnvironmentVariable {
  name: string;
  type?: EnvironmentVariableType;
  value?: string;
  secret?: Secret;
}
/** `Environment`. */
export interface Environment {
  variables?: EnvironmentVariable[];
}

/** `Credential`: a principal and its secret (HTTP basic auth uses principal:secret). */
export interface Credential {
  principal: string;
  secret?: string;
}

/**
 * `MasterInfo`. `ip` is the deprecated packed IPv4 (network order read as a little-endian
 * integer, spec §8); prefer `address`.
 */
export interface MasterInfo {
  id: string;
  ip: number;
  port: number;
  pid?: string;
  hostname?: string;
  version?: string;
  address?: Address;
  domain?: DomainInfo;
  capabilities?: { type?: MasterCapabilityType }[];
}
