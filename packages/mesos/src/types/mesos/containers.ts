/** Containers, images, volumes and networks (mesos.proto `ContainerInfo` and friends, spec §6.7). */
import type {
  ContainerType,
  DockerNetwork,
  ImageType,
  IpcMode,
  MountPropagationMode,
  NetworkProtocol,
  RLimitType,
  SandboxPathType,
  VolumeMode,
  VolumeSourceType,
} from '../enums.js';
import type { ContainerID, Credential, Int64, Labels, Parameter, Parameters, Secret } from './common.js';

/** `Image`: a Docker or AppC image for the Mesos containerizer; `cached` defaults to true. */
export interface Image {
  type: ImageType;
  appc?: { name: string; id?: string; labels?: Labels };
  docker?: { name: string; credential?: Credential; config?: Secret };
  cached?: boolean;
}

/** `Volume.Source`: where a volume comes from (at most one of the typed fields). */
export interface VolumeSource {
  type?: VolumeSourceType;
  docker_volume?: { driver?: string; name: string; driver_options?: Parameters };
  host_path?: { path: string; mount_propagation?: { mode?: MountPropagationMode } };
  sandbox_path?: { type?: SandboxPathType; path: string };
  secret?: Secret;
  csi_volume?: {
    plugin_name: string;
    static_provisioning?: {
      volume_id: string;
      volume_capability: {
        block?: Record<string, never>;
        mount?: { fs_type?: string; mount_flags?: string[] };
        access_mode: { mode: string };
      };
      node_stage_secrets?: Record<string, Secret>;
      node_publish_secrets?: Record<string, Secret>;
      volume_context?: Record<string, string>;
    };
  };
}

/** `Volume`: a mapping into the container; a relative `host_path` is relative to the sandbox. */
export interface Volume {
  mode: VolumeMode;
  container_path: string;
  host_path?: string;
  image?: Image;
  source?: VolumeSource;
}

/** `NetworkInfo.IPAddress`: requested or assigned address; `protocol` defaults to IPv4. */
export interface IPAddress {
  protocol?: NetworkProtocol;
  ip_address?: string;
}

/** A host port → container port mapping (`NetworkInfo.PortMapping`, `DockerInfo.PortMapping`). */
export interface PortMapping {
  host_port: number;
  container_port: number;
  /** `"tcp"` or `"udp"`. */
  protocol?: string;
}

/** `NetworkInfo`: a network request (in ContainerInfo) or an assigned address (in a status). */
export interface NetworkInfo {
  ip_addresses?: IPAddress[];
  name?: string;
  groups?: string[];
  labels?: Labels;
  port_mappings?: PortMapping[];
}

/** `ContainerInfo.DockerInfo` (Docker containerizer). `network` defaults to HOST. */
export interface DockerInfo {
  image: string;
  network?: DockerNetwork;
  port_mappings?: PortMapping[];
  privileged?: boolean;
  /** Passed to the docker CLI as `--key=value`. */
  parameters?: Parameter[];
  force_pull_image?: boolean;
  /** Deprecated since 1.0. */
  volume_driver?: string;
}

/** `CapabilityInfo`: Linux capabilities by name (e.g. `"NET_ADMIN"`). */
export interface CapabilityInfo {
  capabilities?: string[];
}

/** `LinuxInfo`. `share_cgroups` defaults to true (see spec §9.15 about `limits`). */
export interface LinuxInfo {
  capability_info?: CapabilityInfo;
  bounding_capabilities?: CapabilityInfo;
  effective_capabilities?: CapabilityInfo;
  share_pid_namespace?: boolean;
  seccomp?: { profile_name?: string; unconfined?: boolean };
  ipc_mode?: IpcMode;
  /** Size of /dev/shm in MB. */
  shm_size?: number;
  share_cgroups?: boolean;
}

/** `RLimitInfo`: POSIX rlimits; both `hard` and `soft` unset = unlimited. */
export interface RLimitInfo {
  rlimits?: { type?: RLimitType; hard?: Int64; soft?: Int64 }[];
}

/** `TTYInfo`. */
export interface TTYInfo {
  window_size?: { rows: number; columns: number };
}

/** `ContainerInfo`: `type` is required; set at most the matching `docker` / `mesos` part. */
export interface ContainerInfo {
  type: ContainerType;
  volumes?: Volume[];
  hostname?: string;
  docker?: DockerInfo;
  mesos?: { image?: Image };
  network_infos?: NetworkInfo[];
  linux_info?: LinuxInfo;
  rlimit_info?: RLimitInfo;
  tty_info?: TTYInfo;
}

/** `CgroupInfo` as reported in a container status. */
export interface CgroupInfo {
  net_cls?: { classid?: number };
}

/** `ContainerStatus`: what the agent resolved while setting the container up. */
export interface ContainerStatus {
  container_id?: ContainerID;
  network_infos?: NetworkInfo[];
  cgroup_info?: CgroupInfo;
  executor_pid?: number;
}
