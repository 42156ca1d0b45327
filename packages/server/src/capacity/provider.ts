/**
 * Where nodes of a role come from: a provider group (an AWS Auto Scaling group) that the capacity
 * loop reads and resizes. Two providers: `aws-asg` (./aws-asg.ts) and `dry-run` (below), which
 * changes nothing and only says what it would do.
 */

/** One instance of a group. */
export interface GroupInstance {
  instanceId: string;
  /** The provider's lifecycle state (`InService`, `Pending`, `Terminating`…). */
  state: string;
}

/** A group as the provider describes it. */
export interface GroupState {
  desired: number;
  min: number;
  max: number;
  instances: GroupInstance[];
}

/** A provider of nodes. Calls that fail throw an Error saying why; the loop then leaves things as they are. */
export interface CapacityProvider {
  readonly kind: 'aws-asg' | 'dry-run';
  /** The group now. `agentHostnames`: what the dry-run provider takes as its instances. */
  describe(group: string, agentHostnames: readonly string[]): Promise<GroupState>;
  /** Asks the group for `desired` nodes (scale-up). */
  setDesired(group: string, desired: number): Promise<void>;
  /** Terminates one instance, lowering the desired capacity by one (scale-down of a drained node). */
  terminate(group: string, instanceId: string): Promise<void>;
}

/** What the dry-run provider would have done. */
export interface DryRunAction {
  at: number;
  group: string;
  action: 'SetDesiredCapacity' | 'TerminateInstanceInAutoScalingGroup';
  desired?: number;
  instanceId?: string;
}

/**
 * Changes nothing anywhere: its group is the cluster's agents of the role as they are, and what it
 * is asked to do is only kept (the last 100 actions) for the capacity API to show.
 */
export class DryRunProvider implements CapacityProvider {
  readonly kind = 'dry-run';
  readonly actions: DryRunAction[] = [];

  constructor(private readonly now: () => number) {}

  async describe(_group: string, agentHostnames: readonly string[]): Promise<GroupState> {
    const instances = agentHostnames.map((h) => ({ instanceId: h, state: 'InService' }));
    return { desired: instances.length, min: 0, max: Number.MAX_SAFE_INTEGER, instances };
  }

  async setDesired(group: string, desired: number): Promise<void> {
    this.note({ at: this.now(), group, action: 'SetDesiredCapacity', desired });
  }

  async terminate(group: string, instanceId: string): Promise<void> {
    this.note({ at: this.now(), group, action: 'TerminateInstanceInAutoScalingGroup', instanceId });
  }

  private note(action: DryRunAction): void {
    this.actions.push(action);
    if (this.actions.length > 100) this.actions.shift();
  }
}

/**
 * The instance of an agent: the instance whose id is the agent's hostname or its first DNS label
 * (EC2 resource-based names, `i-0abc….ec2.internal`), else none.
 */
export function instanceOfHostname(
  hostname: string,
  instances: readonly GroupInstance[],
): GroupInstance | undefined {
  const host = hostname.toLowerCase();
  const label = host.split('.')[0] ?? host;
  return instances.find((i) => i.instanceId.toLowerCase() === host || i.instanceId.toLowerCase() === label);
}
