/**
 * A fake AWS Auto Scaling endpoint on loopback, speaking the documented Query API as the official
 * SDK (`@aws-sdk/client-auto-scaling`, awsQuery protocol) sends it: `POST /` with a form-encoded
 * body `Action=…&Version=2011-01-01&…`, answered with XML in the
 * `http://autoscaling.amazonaws.com/doc/2011-01-01/` namespace (errors as `<ErrorResponse>`).
 * Every request must be SigV4-signed for service `autoscaling` with the fake's access key: the
 * signature is recomputed with the secret key (a request that does not verify gets 403
 * `SignatureDoesNotMatch`). Actions: DescribeAutoScalingGroups, SetDesiredCapacity,
 * TerminateInstanceInAutoScalingGroup. It launches nothing itself: a test "boots" an instance with
 * `launch` once it sees the desired capacity rise, as the real group would. Every call is recorded.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';

export interface FakeGroup {
  name: string;
  min: number;
  max: number;
  desired: number;
  instances: Array<{ instanceId: string; state: string }>;
}

/** One request the fake received. */
export interface AsgCall {
  at: number;
  action: string;
  params: Record<string, string>;
  /** HTTP status answered. */
  status: number;
}

export interface FakeAsg {
  /** `http://127.0.0.1:<port>`: the SDK's `endpoint`. */
  url: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  calls(action?: string): AsgCall[];
  group(name: string): FakeGroup;
  /** An instance of the group came up (InService). */
  launch(group: string, instanceId: string): void;
  stop(): Promise<void>;
}

const hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Checks a SigV4 `Authorization` header against the request; answers why not, or null when it
 * verifies (docs: "Create a signed AWS API request", canonical request → string to sign → HMAC chain).
 */
export function sigV4Problem(
  req: IncomingMessage,
  body: Buffer,
  keys: { accessKeyId: string; secretAccessKey: string; service: string },
): string | null {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return 'missing or malformed AWS4-HMAC-SHA256 Authorization header';
  const [, keyId, date, region, service, signedHeaders, signature] = m as unknown as string[];
  if (keyId !== keys.accessKeyId) return `unknown access key ${keyId}`;
  if (service !== keys.service) return `credential scope names service ${service}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date!)) return 'X-Amz-Date does not match the credential date';
  const names = signedHeaders!.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and x-amz-date must be signed';
  const canonicalHeaders = names
    .map((n) => {
      const v = req.headers[n];
      const value = Array.isArray(v) ? v.join(',') : (v ?? '');
      return `${n}:${String(value).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const [path, query = ''] = (req.url ?? '/').split('?');
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? hex(body));
  const canonical = [req.method, path, query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonical)].join('\n');
  const kDate = hmac(`AWS4${keys.secretAccessKey}`, date!);
  const kSigning = hmac(hmac(hmac(kDate, region!), service!), 'aws4_request');
  const expected = createHmac('sha256', kSigning).update(toSign).digest('hex');
  return expected === signature
    ? null
    : 'The request signature we calculated does not match the signature you provided.';
}

/** Starts the fake with `groups`; keys and region are the test's. */
export async function startFakeAsg(
  groups: FakeGroup[],
  keys = { accessKeyId: 'AKIDFAKEASG0000000', secretAccessKey: 'fake-asg-secret-key', region: 'us-east-1' },
): Promise<FakeAsg> {
  const byName = new Map(
    groups.map((g) => [g.name, { ...g, instances: g.instances.map((i) => ({ ...i })) }]),
  );
  const calls: AsgCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
      const call: AsgCall = { at: Date.now(), action: params.Action ?? '', params, status: 0 };
      calls.push(call);
      const answer = (status: number, xml: string) => {
        call.status = status;
        res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
        res.end(`<?xml version="1.0"?>\n${xml}`);
      };
      const error = (status: number, code: string, message: string) =>
        answer(
          status,
          `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${esc(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
        );
      if (
        req.method !== 'POST' ||
        !/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')
      )
        return error(400, 'InvalidAction', 'expected a form-encoded POST');
      const problem = sigV4Problem(req, body, { ...keys, service: 'autoscaling' });
      if (problem) return error(403, 'SignatureDoesNotMatch', problem);
      if (params.Version !== '2011-01-01')
        return error(400, 'InvalidAction', `unsupported Version ${params.Version}`);
      const meta = `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;
      switch (params.Action) {
        case 'DescribeAutoScalingGroups': {
          const names = Object.entries(params)
            .filter(([k]) => k.startsWith('AutoScalingGroupNames.member.'))
            .map(([, v]) => v);
          const shown = [...byName.values()].filter((g) => names.length === 0 || names.includes(g.name));
          const members = shown
            .map(
              (g) =>
                `<member><AutoScalingGroupName>${esc(g.name)}</AutoScalingGroupName><MinSize>${g.min}</MinSize><MaxSize>${g.max}</MaxSize><DesiredCapacity>${g.desired}</DesiredCapacity><DefaultCooldown>300</DefaultCooldown><AvailabilityZones><member>${keys.region}a</member></AvailabilityZones><HealthCheckType>EC2</HealthCheckType><CreatedTime>2026-01-01T00:00:00.000Z</CreatedTime><Instances>${g.instances
                  .map(
                    (i) =>
                      `<member><InstanceId>${esc(i.instanceId)}</InstanceId><AvailabilityZone>${keys.region}a</AvailabilityZone><LifecycleState>${i.state}</LifecycleState><HealthStatus>Healthy</HealthStatus><ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>`,
                  )
                  .join('')}</Instances></member>`,
            )
            .join('');
          return answer(
            200,
            `<DescribeAutoScalingGroupsResponse xmlns="${NS}"><DescribeAutoScalingGroupsResult><AutoScalingGroups>${members}</AutoScalingGroups></DescribeAutoScalingGroupsResult>${meta}</DescribeAutoScalingGroupsResponse>`,
          );
        }
        case 'SetDesiredCapacity': {
          const g = byName.get(params.AutoScalingGroupName ?? '');
          if (!g)
            return error(
              400,
              'ValidationError',
              `AutoScalingGroup name not found - ${params.AutoScalingGroupName}`,
            );
          const desired = Number(params.DesiredCapacity);
          if (!Number.isInteger(desired) || desired > g.max)
            return error(
              400,
              'ValidationError',
              `New SetDesiredCapacity value ${params.DesiredCapacity} is above max value ${g.max} for the AutoScalingGroup.`,
            );
          if (desired < g.min)
            return error(
              400,
              'ValidationError',
              `New SetDesiredCapacity value ${desired} is below min value ${g.min} for the AutoScalingGroup.`,
            );
          g.desired = desired;
          return answer(
            200,
            `<SetDesiredCapacityResponse xmlns="${NS}">${meta}</SetDesiredCapacityResponse>`,
          );
        }
        case 'TerminateInstanceInAutoScalingGroup': {
          const id = params.InstanceId ?? '';
          const g = [...byName.values()].find((x) => x.instances.some((i) => i.instanceId === id));
          if (!g)
            return error(
              400,
              'ValidationError',
              `Instance Id not found - No managed instance found for instance ID: ${id}`,
            );
          const decrement = params.ShouldDecrementDesiredCapacity === 'true';
          if (decrement && g.desired - 1 < g.min)
            return error(
              400,
              'ValidationError',
              `Currently, desiredSize equals minSize (${g.min}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
            );
          g.instances = g.instances.filter((i) => i.instanceId !== id);
          if (decrement) g.desired -= 1;
          const activity = `<Activity><ActivityId>${randomUUID()}</ActivityId><AutoScalingGroupName>${esc(g.name)}</AutoScalingGroupName><Description>Terminating EC2 instance: ${esc(id)}</Description><Cause>At ${new Date().toISOString()} instance ${esc(id)} was taken out of service in response to a user request${decrement ? ', shrinking the capacity' : ''}.</Cause><StartTime>${new Date().toISOString()}</StartTime><StatusCode>InProgress</StatusCode><Progress>0</Progress></Activity>`;
          return answer(
            200,
            `<TerminateInstanceInAutoScalingGroupResponse xmlns="${NS}"><TerminateInstanceInAutoScalingGroupResult>${activity}</TerminateInstanceInAutoScalingGroupResult>${meta}</TerminateInstanceInAutoScalingGroupResponse>`,
          );
        }
        default:
          return error(
            400,
            'InvalidAction',
            `The action ${params.Action} is not valid for this web service.`,
          );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    ...keys,
    calls: (action) => calls.filter((c) => action === undefined || c.action === action),
    group: (name) => {
      const g = byName.get(name);
      if (!g) throw new Error(`no group ${name}`);
      return g;
    },
    launch: (group, instanceId) => {
      const g = byName.get(group);
      if (!g) throw new Error(`no group ${group}`);
      g.instances.push({ instanceId, state: 'InService' });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
