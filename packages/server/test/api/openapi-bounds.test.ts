import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PATH_ID_LENGTH } from '../../src/api/schemas/common.js';
import { startTestServer } from './harness.js';
import { type JsonSchema, operationsOf } from './openapi-operations.js';

// Every number and string the API takes has a bound in its schema, and the bounds are in the
// OpenAPI document: what a client reads there is what the server enforces. Strings refuse NUL and
// lone surrogates (PostgreSQL stores neither). Path ids fit what the router lets through.

/** Strings a string schema's pattern must refuse. */
const BAD_STRINGS = [
  '\u0000',
  'a\u0000',
  '\u0000a',
  '\ud800',
  'a\ud800',
  '\udfff',
  'a\udc00b',
  '/\u0000',
  'a|\u0000',
];

/** Problems of one schema (and what it holds), each prefixed with where it is. */
function problems(schema: JsonSchema, where: string, out: string[]): void {
  if (schema.anyOf) {
    schema.anyOf.forEach((branch, i) => problems(branch, `${where}|${i}`, out));
    return;
  }
  if (schema.const !== undefined || schema.enum) return;
  switch (schema.type) {
    case 'string': {
      if (schema.format === 'date-time') return;
      if (typeof schema.maxLength !== 'number') out.push(`${where}: a string without maxLength`);
      if (typeof schema.pattern !== 'string') {
        out.push(`${where}: a string without a pattern refusing NUL and lone surrogates`);
        return;
      }
      const re = new RegExp(schema.pattern, 'u');
      for (const bad of BAD_STRINGS)
        if (re.test(bad)) out.push(`${where}: its pattern takes ${JSON.stringify(bad)}`);
      return;
    }
    case 'integer':
    case 'number':
      if (typeof schema.minimum !== 'number' && typeof schema.exclusiveMinimum !== 'number')
        out.push(`${where}: a number without a minimum`);
      if (typeof schema.maximum !== 'number' && typeof schema.exclusiveMaximum !== 'number')
        out.push(`${where}: a number without a maximum`);
      return;
    case 'array':
      if (typeof schema.maxItems !== 'number') out.push(`${where}: a list without maxItems`);
      if (schema.items) problems(schema.items, `${where}[]`, out);
      return;
    case 'object': {
      for (const [name, property] of Object.entries(schema.properties ?? {}))
        problems(property, `${where}.${name}`, out);
      const extra = schema.additionalProperties;
      if (extra === undefined || extra === true)
        out.push(`${where}: an object that takes any field (additionalProperties is not false)`);
      if (typeof extra === 'object') {
        if (typeof schema.maxProperties !== 'number') out.push(`${where}: a map without maxProperties`);
        if (!schema.propertyNames) out.push(`${where}: a map without propertyNames`);
        else problems({ type: 'string', ...schema.propertyNames }, `${where}{names}`, out);
        problems(extra, `${where}{}`, out);
      }
      return;
    }
    case 'boolean':
    case 'null':
      return;
    default:
      out.push(`${where}: a schema of no known type (${JSON.stringify(schema).slice(0, 100)})`);
  }
}

describe('the OpenAPI document', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let doc: Parameters<typeof operationsOf>[0];
  beforeAll(async () => {
    server = await startTestServer();
    doc = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
  });
  afterAll(async () => server?.stop());

  it('finds what an unbounded schema lacks (the check itself)', () => {
    const found: string[] = [];
    problems({ type: 'object', properties: { s: { type: 'string' }, n: { type: 'integer' } } }, 'x', found);
    problems({ type: 'string', maxLength: 9, pattern: '^.*$' }, 'y', found);
    problems({ type: 'array', items: { type: 'boolean' } }, 'z', found);
    expect(found).toEqual([
      'x.s: a string without maxLength',
      'x.s: a string without a pattern refusing NUL and lone surrogates',
      'x.n: a number without a minimum',
      'x.n: a number without a maximum',
      'x: an object that takes any field (additionalProperties is not false)',
      ...BAD_STRINGS.map((bad) => `y: its pattern takes ${JSON.stringify(bad)}`),
      'z: a list without maxItems',
    ]);
  });

  it('bounds every string, number, list and map of every path, query and body', () => {
    const ops = operationsOf(doc);
    expect(ops.length).toBeGreaterThan(25);
    const found: string[] = [];
    for (const op of ops) {
      const name = `${op.method} ${op.path}`;
      for (const p of [...op.pathParams, ...op.query]) problems(p.schema, `${name} ${p.in}.${p.name}`, found);
      if (op.body) problems(op.body, `${name} body`, found);
    }
    expect(found).toEqual([]);
  });

  it('takes no path id longer than a path segment may be', () => {
    const tooLong = operationsOf(doc).flatMap((op) =>
      op.pathParams
        .filter((p) => !(typeof p.schema.maxLength === 'number' && p.schema.maxLength <= MAX_PATH_ID_LENGTH))
        .map((p) => `${op.method} ${op.path} ${p.name}: maxLength ${String(p.schema.maxLength)}`),
    );
    expect(tooLong).toEqual([]);
  });
});
