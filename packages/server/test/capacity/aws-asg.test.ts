import { afterEach, describe, expect, it } from 'vitest';
import { AwsAsgProvider } from '../../src/capacity/aws-asg.js';
import { startFakeAsg, type FakeAsg } from './fake-asg.js';

/**
 * The AWS Auto Scaling provider through the official SDK against the fake ASG endpoint: the
 * Query API's actions with SigV4-signed requests (a wrong secret key is refused and said).
 */

let asg: FakeAsg | undefined;
afterEach(async () => {
  await asg?.stop();
  asg = undefined;
});

function provider(a: FakeAsg, secret = a.secretAccessKey): AwsAsgProvider {
  return new AwsAsgProvider(
    {
      region: a.region,
      endpoint: a.url,
      accessKeyIdEnv: 'CAP_TEST_KEY_ID',
      secretAccessKeyEnv: 'CAP_TEST_SECRET',
    },
    { CAP_TEST_KEY_ID: a.accessKeyId, CAP_TEST_SECRET: secret },
  );
}

describe('AWS Auto Scaling provider (fake ASG)', () => {
  it('describes a group, sets its desired capacity and terminates one instance decrementing it, signed with SigV4', async () => {
    asg = await startFakeAsg([
      {
        name: 'asg-batch',
        min: 0,
        max: 4,
        desired: 1,
        instances: [{ instanceId: 'i-01', state: 'InService' }],
      },
    ]);
    const p = provider(asg);
    expect(await p.describe('asg-batch')).toEqual({
      desired: 1,
      min: 0,
      max: 4,
      instances: [{ instanceId: 'i-01', state: 'InService' }],
    });
    await p.setDesired('asg-batch', 3);
    expect(asg.group('asg-batch').desired).toBe(3);
    await p.terminate('asg-batch', 'i-01');
    expect(asg.group('asg-batch')).toMatchObject({ desired: 2, instances: [] });
    expect(asg.calls().map((c) => [c.action, c.status])).toEqual([
      ['DescribeAutoScalingGroups', 200],
      ['SetDesiredCapacity', 200],
      ['TerminateInstanceInAutoScalingGroup', 200],
    ]);
    expect(asg.calls('TerminateInstanceInAutoScalingGroup')[0]?.params).toMatchObject({
      Version: '2011-01-01',
      InstanceId: 'i-01',
      ShouldDecrementDesiredCapacity: 'true',
    });
    await expect(p.setDesired('asg-batch', 9)).rejects.toThrow(/above max value 4/);
    await expect(p.describe('asg-other')).rejects.toThrow(/does not exist/);
    p.close();
  });

  it('is refused when the request is signed with another secret key (fake ASG verifies SigV4)', async () => {
    asg = await startFakeAsg([{ name: 'asg-batch', min: 0, max: 4, desired: 1, instances: [] }]);
    const p = provider(asg, 'not-the-secret');
    await expect(p.setDesired('asg-batch', 2)).rejects.toThrow(/signature/i);
    expect(asg.group('asg-batch').desired).toBe(1);
    expect(asg.calls()[0]?.status).toBe(403);
    p.close();
  });
});
