/**
 * The AWS Auto Scaling provider, through the official SDK (`@aws-sdk/client-auto-scaling`):
 * DescribeAutoScalingGroups to read a group and its instances, SetDesiredCapacity to scale up,
 * TerminateInstanceInAutoScalingGroup with ShouldDecrementDesiredCapacity to remove the one
 * drained instance (never SetDesiredCapacity downwards: the group would pick which instance dies).
 * Credentials: the SDK's default chain, or static ones from the environment variables the
 * capacity config names; `endpoint` overrides the service URL (tests, VPC endpoints). The SDK
 * (about 18 MB resident) is loaded at the first call, not with the server: most set-ups never
 * scale an Auto Scaling group.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { AwsSettings } from './config.js';
import type { CapacityProvider, GroupState } from './provider.js';

export class AwsAsgProvider implements CapacityProvider {
  readonly kind = 'aws-asg';
  private readonly sdk = import('@aws-sdk/client-auto-scaling');
  private readonly client: Promise<AutoScalingClient>;

  constructor(settings: AwsSettings, env: NodeJS.ProcessEnv = process.env) {
    const keyId = settings.accessKeyIdEnv ? env[settings.accessKeyIdEnv] : undefined;
    const secret = settings.secretAccessKeyEnv ? env[settings.secretAccessKeyEnv] : undefined;
    this.client = this.sdk.then(
      ({ AutoScalingClient }) =>
        new AutoScalingClient({
          region: settings.region,
          ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
          ...(keyId && secret ? { credentials: { accessKeyId: keyId, secretAccessKey: secret } } : {}),
          maxAttempts: 2,
        }),
    );
  }

  async describe(group: string): Promise<GroupState> {
    const [client, { DescribeAutoScalingGroupsCommand }] = await Promise.all([this.client, this.sdk]);
    const out = await client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }));
    const g = out.AutoScalingGroups?.find((x) => x.AutoScalingGroupName === group);
    if (!g) throw new Error(`the Auto Scaling group ${group} does not exist`);
    return {
      desired: g.DesiredCapacity ?? 0,
      min: g.MinSize ?? 0,
      max: g.MaxSize ?? 0,
      instances: (g.Instances ?? []).map((i) => ({
        instanceId: i.InstanceId ?? '',
        state: i.LifecycleState ?? '',
      })),
    };
  }

  async setDesired(group: string, desired: number): Promise<void> {
    const [client, { SetDesiredCapacityCommand }] = await Promise.all([this.client, this.sdk]);
    await client.send(
      new SetDesiredCapacityCommand({
        AutoScalingGroupName: group,
        DesiredCapacity: desired,
        HonorCooldown: false,
      }),
    );
  }

  async terminate(_group: string, instanceId: string): Promise<void> {
    const [client, { TerminateInstanceInAutoScalingGroupCommand }] = await Promise.all([
      this.client,
      this.sdk,
    ]);
    await client.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: instanceId,
        ShouldDecrementDesiredCapacity: true,
      }),
    );
  }

  close(): void {
    void this.client.then((client) => client.destroy()).catch(() => undefined);
  }
}
