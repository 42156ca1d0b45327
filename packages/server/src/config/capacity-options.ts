import type { OptionSpecOf } from './option-spec.js';

/** The cluster-capacity keys of the server's flat config. */
export interface CapacityFlags {
  capacityConfig: string | null;
}

/** Cluster capacity per Mesos role (capacity/config.ts reads the file). */
export const CAPACITY_OPTIONS: readonly OptionSpecOf<keyof CapacityFlags>[] = [
  {
    key: 'capacityConfig',
    flag: '--capacity-config',
    env: 'GALLEY_CAPACITY_CONFIG',
    type: 'string',
    default: () => null,
    description:
      'JSON file sizing provider groups (AWS Auto Scaling groups) per Mesos role from the demand: `{"roles": {"batch": {"provider": "aws-asg", "group": "asg-batch", "min": 0, "max": 10, "node": {"cpus": 4, "mem": 16384}}}, "aws": {"region": "us-east-1"}}` (see README, Cluster capacity). Unset: no capacity loop.',
  },
];
