/**
 * The capacity config (`--capacity-config FILE`, JSON), Faustian's ASG-per-role sizing:
 *
 *   { "interval_seconds": 15,
 *     "aws": { "region": "us-east-1", "endpoint": "https://…", "access_key_id_env": "NAME",
 *              "secret_access_key_env": "NAME" },
 *     "roles": { "batch": { "cluster": "mesos", "provider": "aws-asg", "group": "asg-batch",
 *                           "min": 0, "max": 10, "node": { "cpus": 4, "mem": 16384 },
 *                           "cooldown_seconds": 300, "drain_timeout_seconds": 600 } } }
 *
 * Every field is checked; a problem names its field. Credentials are never in the file: only the
 * NAMES of the environment variables that hold them (without them the SDK's default chain).
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/config.js';

/** AWS settings of the `aws-asg` provider. */
export interface AwsSettings {
  region: string;
  endpoint: string | null;
  accessKeyIdEnv: string | null;
  secretAccessKeyEnv: string | null;
}

/** One role's capacity. */
export interface RoleCapacity {
  role: string;
  /** The Mesos cluster whose agents serve the role (default: the default cluster). */
  cluster: string;
  provider: 'aws-asg' | 'dry-run';
  group: string;
  min: number;
  max: number;
  node: { cpus: number; memMb: number };
  cooldownMs: number;
  /** A drain whose inverse offers are not all accepted by then is given up. */
  drainTimeoutMs: number;
}

export interface CapacitySettings {
  intervalMs: number;
  aws: AwsSettings | null;
  roles: RoleCapacity[];
}

/** A config that cannot be used (the server does not start); each problem names its field. */
export class CapacityConfigError extends ConfigError {
  constructor(file: string, problems: readonly string[]) {
    super(problems.map((p) => `--capacity-config ${file}: ${p}`));
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const NAME = /^[A-Za-z0-9_.\-/*]{1,255}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Reads and checks the file. */
export function loadCapacityConfig(file: string, defaultCluster: string): CapacitySettings {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CapacityConfigError(file, [`cannot be read as JSON: ${(err as Error).message}`]);
  }
  const problems: string[] = [];
  const settings = parseCapacityConfig(raw, defaultCluster, problems);
  if (problems.length > 0) throw new CapacityConfigError(file, problems);
  return settings;
}

/** Checks a parsed config; problems are pushed, each naming its field. */
export function parseCapacityConfig(
  raw: unknown,
  defaultCluster: string,
  problems: string[],
): CapacitySettings {
  const out: CapacitySettings = { intervalMs: 15_000, aws: null, roles: [] };
  if (!isObj(raw)) {
    problems.push('must be a JSON object');
    return out;
  }
  for (const key of Object.keys(raw))
    if (!['interval_seconds', 'aws', 'roles'].includes(key)) problems.push(`${key}: unknown field`);
  const num = (o: Obj, field: string, path: string, min: number, max: number, dflt?: number): number => {
    const v = o[field];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      problems.push(`${path}: must be a number ≥ ${min} and ≤ ${max}`);
      return dflt ?? min;
    }
    return v;
  };
  const str = (o: Obj, field: string, path: string, pattern: RegExp, required: boolean): string | null => {
    const v = o[field];
    if (v === undefined && !required) return null;
    if (typeof v !== 'string' || !pattern.test(v)) {
      problems.push(`${path}: must be ${required ? 'a' : 'absent or a'} string matching ${pattern.source}`);
      return null;
    }
    return v;
  };
  out.intervalMs = num(raw, 'interval_seconds', 'interval_seconds', 0.05, 3600, 15) * 1000;
  if (raw.aws !== undefined) {
    if (!isObj(raw.aws)) problems.push('aws: must be an object');
    else {
      const endpoint = str(raw.aws, 'endpoint', 'aws.endpoint', /^https?:\/\/[^\s]{1,2000}$/, false);
      out.aws = {
        region: str(raw.aws, 'region', 'aws.region', /^[a-z0-9-]{1,64}$/, true) ?? '',
        endpoint,
        accessKeyIdEnv: str(raw.aws, 'access_key_id_env', 'aws.access_key_id_env', ENV_NAME, false),
        secretAccessKeyEnv: str(
          raw.aws,
          'secret_access_key_env',
          'aws.secret_access_key_env',
          ENV_NAME,
          false,
        ),
      };
    }
  }
  if (!isObj(raw.roles)) {
    problems.push('roles: must be an object of role → settings');
    return out;
  }
  const entries = Object.entries(raw.roles);
  if (entries.length > 100) problems.push('roles: at most 100 roles');
  for (const [role, value] of entries.slice(0, 100)) {
    const path = `roles.${role}`;
    if (!NAME.test(role)) problems.push(`${path}: not a Mesos role name`);
    if (!isObj(value)) {
      problems.push(`${path}: must be an object`);
      continue;
    }
    const provider = value.provider;
    if (provider !== 'aws-asg' && provider !== 'dry-run')
      problems.push(`${path}.provider: must be "aws-asg" or "dry-run"`);
    if (provider === 'aws-asg' && out.aws === null)
      problems.push(`${path}.provider: "aws-asg" needs the "aws" settings`);
    const node = isObj(value.node) ? value.node : {};
    if (!isObj(value.node)) problems.push(`${path}.node: must be {cpus, mem}`);
    const min = num(value, 'min', `${path}.min`, 0, 10_000);
    const max = num(value, 'max', `${path}.max`, 0, 10_000);
    if (max < min) problems.push(`${path}.max: must be ≥ min`);
    out.roles.push({
      role,
      cluster: str(value, 'cluster', `${path}.cluster`, /^[A-Za-z0-9_.-]{1,64}$/, false) ?? defaultCluster,
      provider: provider === 'aws-asg' ? 'aws-asg' : 'dry-run',
      group: str(value, 'group', `${path}.group`, /^[\w\-.:/ ]{1,255}$/, true) ?? '',
      min,
      max,
      node: {
        cpus: num(node, 'cpus', `${path}.node.cpus`, 0.01, 4096),
        memMb: num(node, 'mem', `${path}.node.mem`, 1, 16_777_216),
      },
      cooldownMs: num(value, 'cooldown_seconds', `${path}.cooldown_seconds`, 0, 86_400, 300) * 1000,
      drainTimeoutMs:
        num(value, 'drain_timeout_seconds', `${path}.drain_timeout_seconds`, 1, 86_400, 600) * 1000,
    });
    for (const key of Object.keys(value))
      if (
        ![
          'cluster',
          'provider',
          'group',
          'min',
          'max',
          'node',
          'cooldown_seconds',
          'drain_timeout_seconds',
        ].includes(key)
      )
        problems.push(`${path}.${key}: unknown field`);
  }
  return out;
}
