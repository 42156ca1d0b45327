import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NO_NUL, PIPELINE_LIMITS } from '@galley/server/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GalleyServer } from '../../src/app.js';
import { startTestServer } from './harness.js';

// The pipeline body is one TypeBox schema (src/api/schemas/pipeline-spec.ts): fastify checks it,
// OpenAPI documents it with its bounds, and whatever breaks it is a 400 naming the field; only
// the rules between fields are core's (422).

let server: GalleyServer & { stop(): Promise<void> };
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.stop());

interface ErrorAnswer {
  code: string;
  message: string;
  fields?: Record<string, string>;
}

const send = async (method: 'POST' | 'PATCH' | 'GET', url: string, payload?: unknown) => {
  const res = await server.app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: res.statusCode, body: (res.body ? res.json() : null) as ErrorAnswer };
};

/** A pipeline of no instances (nothing is launched) with one process; `over` replaces top-level fields. */
const pipeline = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  environment: { GREETING: 'hello' },
  processes: {
    web: {
      id: 'web',
      command: 'exec sleep 60',
      arguments: ['a'],
      resources: { cpu: 0.1, mem: 16 },
      port_mappings: [{ host_port: 0, container_port: 8000 }],
      health_check: { protocol: 'TCP' },
    },
  },
  instances: 0,
  ...over,
});

/** The seed's process with `over` merged into it. */
const withProcess = (over: Record<string, unknown>) =>
  pipeline('checked', { processes: { web: { ...pipeline('x').processes.web, ...over } } });

describe('the pipeline body in OpenAPI', () => {
  it('documents every field of the body with its bounds, on POST and (all optional) on PATCH', async () => {
    const doc = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const post = doc.paths['/api/v1/pipelines'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(post.properties).sort()).toEqual(
      [
        'autoscaling',
        'container',
        'environment',
        'executor_resources',
        'id',
        'instances',
        'labels',
        'processes',
        'roles',
        'update_strategy',
      ].sort(),
    );
    expect(post.required).toEqual(['id', 'processes']);
    expect(post.additionalProperties).toBe(false);
    expect(post.properties.id).toMatchObject({ maxLength: 63, pattern: '^[a-zA-Z0-9_-]+$' });
    expect(post.properties.instances).toMatchObject({ type: 'integer', minimum: 0, maximum: 1000 });
    expect(post.properties.processes).toMatchObject({ minProperties: 1, maxProperties: 100 });
    expect(post.properties.autoscaling.required).toEqual(['max', 'target_per_instance', 'source']);
    expect(post.properties.autoscaling.properties.polling_interval_seconds).toMatchObject({
      minimum: 1,
      maximum: 3600,
    });
    const process = post.properties.processes.additionalProperties;
    expect(Object.keys(process.properties).sort()).toEqual(
      [
        'arguments',
        'command',
        'drain',
        'environment',
        'health_check',
        'id',
        'kill_grace_period',
        'port_mappings',
        'resources',
        'shell',
      ].sort(),
    );
    expect(process.additionalProperties).toBe(false);
    expect(process.properties.resources.properties.cpu).toMatchObject({ minimum: 0.001, maximum: 256 });
    expect(process.properties.resources.properties.mem).toMatchObject({ maximum: 4_194_304 });
    expect(process.properties.kill_grace_period).toMatchObject({ minimum: 0, maximum: 3600 });
    expect(process.properties.arguments).toMatchObject({ maxItems: 1000 });
    expect(process.properties.command).toMatchObject({ maxLength: 131_072, pattern: NO_NUL });
    const check = process.properties.health_check.properties;
    expect(check.interval_seconds).toMatchObject({ minimum: 0.1, maximum: 3600 });
    expect(check.timeout_seconds).toMatchObject({ minimum: 0.1, maximum: 3600 });
    expect(check.grace_period_seconds).toMatchObject({ minimum: 0, maximum: 3600 });
    expect(check.protocol.enum).toEqual(['HTTP', 'TCP', 'COMMAND']);
    expect(post.properties.update_strategy.properties.max_surge.anyOf).toHaveLength(2);
    expect(post.properties.roles).toMatchObject({ maxItems: 100 });
    expect(post.properties.labels).toMatchObject({ maxProperties: 100 });
    expect(post.properties.instances.description).toMatch(/0 to 1000/);

    const patch =
      doc.paths['/api/v1/pipelines/{pipeline_id}'].patch.requestBody.content['application/json'].schema;
    expect(Object.keys(patch.properties).sort()).toEqual(Object.keys(post.properties).sort());
    expect(patch.required).toBeUndefined();
    expect(patch.additionalProperties).toBe(false);
    expect(patch.properties.instances).toMatchObject({ maximum: 1000 });

    const answer =
      doc.paths['/api/v1/pipelines/{pipeline_id}'].get.responses['200'].content['application/json'].schema;
    expect(answer.properties).toHaveProperty('processes');
    expect(answer.properties).toHaveProperty('update_strategy');
    expect(answer.properties).toHaveProperty('tasks');
  });
});

describe('POST /pipelines refuses a body that breaks its schema with a 400 naming the field', () => {
  const cases: [string, unknown, string, RegExp?][] = [
    [
      'an unknown top-level field',
      pipeline('u1', { autoscale: { min: 1 } }),
      'body.autoscale',
      /not a known field/,
    ],
    ['an unknown field in a process', withProcess({ colour: 'red' }), 'body.processes.web.colour', /known/],
    [
      'an unknown field in a health check',
      withProcess({ health_check: { protocol: 'TCP', every: 5 } }),
      'body.processes.web.health_check.every',
    ],
    [
      'an unknown field in resources',
      withProcess({ resources: { cpu: 1, mem: 1, gpus: 1 } }),
      'body.processes.web.resources.gpus',
    ],
    [
      'an unknown field in update_strategy',
      pipeline('u2', { update_strategy: { nested: { deeper: 1 } } }),
      'body.update_strategy.nested',
    ],
    ['instances 1e9', pipeline('big', { instances: 1e9 }), 'body.instances', /≤ 1000/],
    ['instances below 0', pipeline('neg', { instances: -1 }), 'body.instances', /whole number ≥ 0/],
    ['instances 1.5', pipeline('frac', { instances: 1.5 }), 'body.instances', /whole number/],
    ['instances as words', pipeline('words', { instances: 'many' }), 'body.instances', /whole number ≥ 0/],
    ['an id of 5000 characters', pipeline('x'.repeat(5000)), 'body.id', /1 to 63 characters/],
    ['an id with spaces', pipeline('no spaces!'), 'body.id', /\^\[a-zA-Z0-9_-\]\+\$/],
    ['no id', { processes: pipeline('x').processes }, 'body.id', /is required/],
    ['no processes', pipeline('np', { processes: {} }), 'body.processes', /at least one/],
    [
      'a process name with spaces',
      pipeline('pn', { processes: { 'a b': pipeline('x').processes.web } }),
      'body.processes.a b',
      /not a valid name/,
    ],
    ['NUL in a command', withProcess({ command: 'echo a\u0000b' }), 'body.processes.web.command', /NUL/],
    [
      'NUL in an argument',
      withProcess({ arguments: ['ok', '\u0000'] }),
      'body.processes.web.arguments.1',
      /NUL/,
    ],
    [
      'NUL in an environment value',
      pipeline('nul', { environment: { A: 'x\u0000' } }),
      'body.environment.A',
      /NUL/,
    ],
    ['NUL in a label', pipeline('nul', { labels: { team: '\u0000' } }), 'body.labels.team', /NUL/],
    ['NUL in an image', pipeline('nul', { container: { image: 'a\u0000' } }), 'body.container.image', /NUL/],
    ['an = in an environment name', pipeline('env', { environment: { 'A=B': 'x' } }), 'body.environment.A=B'],
    ['an empty image', pipeline('img', { container: { image: '' } }), 'body.container.image'],
    [
      'an unknown network',
      pipeline('net', { container: { image: 'x', network: 'OVERLAY' } }),
      'body.container.network',
      /"HOST", "BRIDGE"/,
    ],
    ['cpu 0', withProcess({ resources: { cpu: 0, mem: 1 } }), 'body.processes.web.resources.cpu', /≥ 0.001/],
    [
      'cpu 1e9',
      withProcess({ resources: { cpu: 1e9, mem: 1 } }),
      'body.processes.web.resources.cpu',
      /≤ 256/,
    ],
    [
      'mem of 5 TiB',
      withProcess({ resources: { cpu: 1, mem: 5 * 2 ** 20 } }),
      'body.processes.web.resources.mem',
    ],
    ['no resources', withProcess({ resources: undefined }), 'body.processes.web.resources', /is required/],
    ['a negative kill grace', withProcess({ kill_grace_period: -1 }), 'body.processes.web.kill_grace_period'],
    [
      'a kill grace of a year',
      withProcess({ kill_grace_period: 31_536_000 }),
      'body.processes.web.kill_grace_period',
    ],
    [
      'a host port over 65535',
      withProcess({ port_mappings: [{ host_port: 70000 }] }),
      'body.processes.web.port_mappings.0.host_port',
    ],
    [
      'a health-check interval of 1e308 s',
      withProcess({ health_check: { protocol: 'TCP', interval_seconds: 1e308 } }),
      'body.processes.web.health_check.interval_seconds',
      /≤ 3600/,
    ],
    [
      'a health-check interval of 1 ms',
      withProcess({ health_check: { protocol: 'TCP', interval_seconds: 0.001 } }),
      'body.processes.web.health_check.interval_seconds',
      /≥ 0.1/,
    ],
    [
      'a health-check path without /',
      withProcess({ health_check: { protocol: 'HTTP', path: 'health' } }),
      'body.processes.web.health_check.path',
    ],
    [
      'an unknown health-check protocol',
      withProcess({ health_check: { protocol: 'UDP' } }),
      'body.processes.web.health_check.protocol',
    ],
    [
      'a surge of 150%',
      pipeline('s', { update_strategy: { max_surge: '150%' } }),
      'body.update_strategy.max_surge',
    ],
    [
      'a surge in words',
      pipeline('s', { update_strategy: { max_surge: 'lots' } }),
      'body.update_strategy.max_surge',
      /whole number ≥ 0 and ≤ 1000 or a string matching/,
    ],
    [
      'max_unavailable below 0',
      pipeline('s', { update_strategy: { max_unavailable: -1 } }),
      'body.update_strategy.max_unavailable',
    ],
    [
      'a progress deadline of 0',
      pipeline('s', { update_strategy: { progress_deadline_seconds: 0 } }),
      'body.update_strategy.progress_deadline_seconds',
    ],
    ['a role that is not a string', pipeline('r', { roles: [{}] }), 'body.roles.0'],
    [
      'too many roles',
      pipeline('r', { roles: Array.from({ length: 101 }, (_, i) => `r${i}`) }),
      'body.roles',
      /100/,
    ],
    [
      'too many arguments',
      withProcess({ arguments: Array.from({ length: PIPELINE_LIMITS.arguments + 1 }, () => 'a') }),
      'body.processes.web.arguments',
    ],
    ['a list for an object', [pipeline('l')], 'body', /object/],
  ];

  it.each(cases)('%s', async (_what, body, field, message) => {
    const res = await send('POST', '/pipelines', body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(Object.keys(res.body.fields ?? {})).toContain(field);
    if (message) expect(res.body.fields?.[field]).toMatch(message);
    expect(res.body.message).toContain(field);
  });

  it('names every bad field of one body, not only the first', async () => {
    const res = await send('POST', '/api/v1/pipelines', pipeline('two', { instances: 1e9, autoscale: true }));
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.fields ?? {}).sort()).toEqual(['body.autoscale', 'body.instances']);
  });

  it('leaves the rules between fields to core: 422 INVALID_PIPELINE naming the field', async () => {
    const noCommand = withProcess({ command: undefined });
    const res = await send('POST', '/pipelines', noCommand);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('INVALID_PIPELINE');
    expect(Object.keys(res.body.fields ?? {})).toEqual(['body.processes.web.command']);
    const port = await send(
      'POST',
      '/pipelines',
      withProcess({ health_check: { protocol: 'TCP', port_index: 1 } }),
    );
    expect(port.status).toBe(422);
    expect(Object.keys(port.body.fields ?? {})).toEqual(['body.processes.web.health_check.port_index']);
  });
});

describe('the bounds a real pipeline needs pass, and the answer shows the spec with its defaults', () => {
  it('creates a pipeline at the bounds (63-character id, 1000 instances allowed) and answers its spec', async () => {
    const id = 'p'.repeat(63);
    const created = await send(
      'POST',
      '/pipelines',
      pipeline(id, {
        labels: { team: 'x' },
        roles: ['*'],
        update_strategy: { max_surge: '100%', max_unavailable: 1 },
      }),
    );
    expect(created.status).toBe(204);
    const { status, body } = await send('GET', `/pipelines/${id}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id,
      instances: 0,
      environment: { GREETING: 'hello' },
      executor_resources: { cpu: 0.01, mem: 32, disk: 1 },
      labels: { team: 'x' },
      roles: ['*'],
      update_strategy: {
        max_surge: '100%',
        max_unavailable: 1,
        min_healthy_seconds: 10,
        auto_rollback: true,
      },
      processes: {
        web: {
          id: 'web',
          command: 'exec sleep 60',
          arguments: ['a'],
          shell: false,
          resources: { cpu: 0.1, mem: 16, disk: 0 },
          port_mappings: [{ host_port: 0, container_port: 8000, protocol: 'tcp' }],
          kill_grace_period: 30,
          health_check: { protocol: 'TCP' },
        },
      },
      tasks: [],
    });
  });
});

describe('PATCH /pipelines/{id} takes the same fields, each optional', () => {
  beforeAll(async () => {
    expect((await send('POST', '/pipelines', pipeline('patched'))).status).toBe(204);
  });

  it.each([
    ['an unknown field', { autoscale: true }, 'body.autoscale'],
    ['an unknown nested field', { update_strategy: { surge: 1 } }, 'body.update_strategy.surge'],
    ['instances 1e9', { instances: 1e9 }, 'body.instances'],
    ['instances 1.5', { instances: 1.5 }, 'body.instances'],
    ['NUL in the environment', { environment: { A: '\u0000' } }, 'body.environment.A'],
    ['an id of 5000 characters', { id: 'x'.repeat(5000) }, 'body.id'],
  ])('refuses %s with a 400 naming it', async (_what, change, field) => {
    const res = await send('PATCH', '/pipelines/patched', change);
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.fields ?? {})).toContain(field);
  });

  it('takes any one field alone', async () => {
    expect((await send('PATCH', '/pipelines/patched', { update_strategy: { max_surge: 2 } })).status).toBe(
      204,
    );
    expect((await send('PATCH', '/pipelines/patched', { labels: { a: 'b' } })).status).toBe(204);
    const { body } = await send('GET', '/pipelines/patched');
    expect(body).toMatchObject({ labels: { a: 'b' }, update_strategy: { max_surge: 2 }, version: 2 });
  });
});

describe('the schemas module', () => {
  it('imports nothing but TypeBox and import-free model constants, so the web UI and the CLI can import it without server code', async () => {
    const dir = join(import.meta.dirname, '../../src/api/schemas');
    for (const file of await readdir(dir)) {
      const source = await readFile(join(dir, file), 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports) {
        if (/^(\.\/|@sinclair\/typebox$)/.test(spec)) continue;
        // A list the store shares (model/sort-fields.ts): allowed only while it imports nothing itself.
        expect([file, spec]).toEqual([file, expect.stringMatching(/^\.\.\/\.\.\/model\/[\w-]+\.js$/)]);
        const shared = await readFile(join(dir, spec.replace(/\.js$/, '.ts')), 'utf8');
        expect([spec, shared.match(/^import /m)]).toEqual([spec, null]);
      }
    }
  });

  const built = join(import.meta.dirname, '../../dist/api/schemas/index.js');
  it.runIf(existsSync(built))(
    'is the package subpath @galley/server/api (built), for the web UI and other clients',
    async () => {
      const script =
        "const api = await import('@galley/server/api'); console.log(JSON.stringify([typeof api.PipelineBody.properties, api.PIPELINE_LIMITS.instances]))";
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        cwd: join(import.meta.dirname, '../../../web'),
      });
      expect(JSON.parse(stdout)).toEqual(['object', 1000]);
    },
  );
});
