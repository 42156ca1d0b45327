import fc from 'fast-check';
import type { JsonSchema, Operation, Parameter } from './openapi-operations.js';

// Requests for the API fuzz test, generated from the OpenAPI document: for an operation, a valid
// request (path ids of things that exist, query parameters and a body that follow the schemas),
// then broken in one or more ways: a value of the wrong type, out of its bounds, huge, odd (NUL,
// lone surrogates, right-to-left marks, paths, SQL), a field missing or added (`__proto__`), a
// body nested thousands deep, not JSON at all or not an object, every content type, bad path ids
// (%00, malformed %-escapes, too long), bad and repeated query parameters, each API prefix.

/** A request as app.inject takes it. */
export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

/** Ids of things that exist, for valid path parameters. */
export interface Fixtures {
  definition_id: string;
  alias: string;
  run_id: string;
  pipeline_id: string;
}

/** A small seeded PRNG (mulberry32): the structure of a request, reproducible from its seed. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  seed(): number {
    return this.int(2 ** 31);
  }
}

const repeat = (s: string, n: number) => s.repeat(n);

/** Strings no field should take, or should take and store as they are. */
const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'a\udc00b',
  '\udfff\ud800',
  '😀',
  repeat('😀', 500),
  '\u202eevil',
  '\ufeff',
  '\r\n',
  '../../../etc/passwd',
  '%00',
  '${jndi:ldap://x}',
  "'; DROP TABLE runs; --",
  '\\',
  '"',
  '{}',
  'null',
  '-1',
  '1e309',
  'NaN',
  repeat('a', 257),
  repeat('x', 70_000),
  repeat('é', 300_000),
];

/** Numbers that are wrong somewhere. */
const ODD_NUMBERS: readonly number[] = [
  -1,
  0,
  0.5,
  1.5,
  -0.000001,
  1e308,
  -1e308,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53 + 2,
  1e21,
];

/** Values of every JSON type. */
const WRONG_TYPES: readonly unknown[] = [null, true, false, 0, -7, 3.25, 'text', [], [1, 'a'], {}, { a: 1 }];

/** One of WRONG_TYPES, a copy of its own (a body is changed in place). */
const wrongType = (rng: Rng): unknown => structuredClone(rng.pick(WRONG_TYPES));

/**
 * `depth` levels of arrays or objects, as a placeholder string that the body's JSON text replaces
 * with them (JSON.stringify itself would overflow the stack on thousands of levels).
 */
function nested(depth: number, objects: boolean): string {
  return `\u0007nested:${depth}:${objects ? 'o' : 'a'}\u0007`;
}

/** The JSON text with each placeholder of `nested` replaced by its levels. */
function expandNested(json: string): string {
  return json.replace(/"\\u0007nested:(\d+):([oa])\\u0007"/g, (_, depth: string, kind: string) => {
    const n = Number(depth);
    return kind === 'o' ? '{"a":'.repeat(n) + '1' + '}'.repeat(n) : '['.repeat(n) + '1' + ']'.repeat(n);
  });
}

/** A string matching `pattern` within the length bounds, drawn by fast-check. */
function matching(schema: JsonSchema, rng: Rng): string {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 50;
  if (!schema.pattern) return repeat('x', Math.max(min, Math.min(max, 1 + rng.int(8))));
  const arb = fc.stringMatching(new RegExp(schema.pattern, 'u'));
  for (let i = 0; i < 8; i++) {
    const [s] = fc.sample(arb, { numRuns: 1, seed: rng.seed() });
    if (s !== undefined && s.length >= min && s.length <= max) return s;
  }
  return repeat('a', Math.max(min, 1));
}

/** A value the schema takes: small (numbers near their minimum, short lists) to keep valid requests cheap. */
export function validOf(schema: JsonSchema, rng: Rng, depth = 0): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return rng.pick(schema.enum);
  if (schema.anyOf) return validOf(rng.pick(schema.anyOf), rng, depth);
  switch (schema.type) {
    case 'string':
      return schema.format === 'date-time' ? new Date().toISOString() : matching(schema, rng);
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? (schema.exclusiveMinimum ?? -1) + 1;
      const max = schema.maximum ?? (schema.exclusiveMaximum ?? min + 100) - 1;
      const v = Math.min(max, min + rng.int(4));
      return schema.type === 'number' && rng.chance(0.3) ? Math.min(max, v + 0.5) : v;
    }
    case 'boolean':
      return rng.chance(0.5);
    case 'null':
      return null;
    case 'array': {
      const min = schema.minItems ?? 0;
      const n = Math.min(schema.maxItems ?? 3, min + (depth > 3 ? 0 : rng.int(3)));
      return Array.from({ length: n }, () => (schema.items ? validOf(schema.items, rng, depth + 1) : 1));
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set(schema.required ?? []);
      for (const [name, prop] of Object.entries(schema.properties ?? {}))
        if (required.has(name) || (depth < 3 && rng.chance(0.35))) out[name] = validOf(prop, rng, depth + 1);
      const extra = schema.additionalProperties;
      if (typeof extra === 'object') {
        const n = Math.max(schema.minProperties ?? 0, depth > 3 ? 0 : rng.int(3));
        for (let i = 0; i < n; i++) {
          const key = matching({ type: 'string', ...schema.propertyNames, maxLength: 20 }, rng);
          out[key] = validOf(extra, rng, depth + 1);
        }
      }
      return out;
    }
    default:
      return 'x';
  }
}

/** Every place in a valid value, with the schema there. */
function placesOf(value: unknown, schema: JsonSchema, path: (string | number)[], out: Place[]): void {
  out.push({ path, schema });
  const s = schema.anyOf ? (schema.anyOf.find((b) => b.type === typeOf(value)) ?? schema) : schema;
  if (Array.isArray(value) && s.items) value.forEach((v, i) => placesOf(v, s.items!, [...path, i], out));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      const prop =
        s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : {});
      placesOf(v, prop, [...path, k], out);
    }
}

interface Place {
  path: (string | number)[];
  schema: JsonSchema;
}

const typeOf = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

/** A value that is wrong (or at a bound) for `schema`. */
function badFor(schema: JsonSchema, rng: Rng, text: string): unknown {
  const roll = rng.int(10);
  if (roll === 0) return wrongType(rng);
  if (roll === 1) return nested(rng.pick([40, 200, 6_000]), rng.chance(0.5));
  if (roll === 2) return text;
  const type = schema.type ?? schema.anyOf?.[0]?.type;
  if (type === 'integer' || type === 'number') {
    const bounds = [
      schema.minimum !== undefined ? schema.minimum - 1 : undefined,
      schema.maximum !== undefined ? schema.maximum + 1 : undefined,
      schema.minimum,
      schema.type === 'integer' && schema.minimum !== undefined ? schema.minimum + 0.5 : undefined,
    ].filter((v): v is number => v !== undefined);
    return rng.pick([...ODD_NUMBERS, ...bounds, String(rng.pick(ODD_NUMBERS))]);
  }
  if (type === 'string') {
    const max = schema.maxLength ?? 100;
    return rng.pick([
      ...ODD_STRINGS,
      repeat('a', Math.min(max, 300_000)),
      repeat('a', Math.min(max + 1, 900_000)),
      `${String(validOf(schema, rng))}\u0000`,
      `\ud800${String(validOf(schema, rng))}`,
    ]);
  }
  if (type === 'array') {
    const item = schema.items ? validOf(schema.items, rng) : 1;
    return rng.pick([
      Array.from({ length: (schema.maxItems ?? 10) + 1 }, () => item),
      [wrongType(rng)],
      [nested(50, true)],
    ]);
  }
  if (type === 'object') return rng.pick([[], 'x', { ['\u0000']: 1 }, { ['\ud800']: 'x' }, nested(60, true)]);
  return wrongType(rng);
}

/** Sets (or with `undefined`, deletes) the value at `path` of `root`; answers the new root. */
function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = value;
  return root;
}

/** Keys no object should take. */
const BAD_KEYS: readonly string[] = [
  'colour',
  '\u0000',
  'a\u0000',
  '\ud800',
  '',
  repeat('k', 10_000),
  'constructor',
  'toString',
  'hasOwnProperty',
];

/** A valid body, broken in 0 to 3 places (a value, a missing field, an extra one). */
function bodyOf(schema: JsonSchema, rng: Rng, text: string): string {
  let body = validOf(schema, rng);
  const breaks = rng.pick([0, 1, 1, 1, 2, 3]);
  let protoKey = false;
  for (let i = 0; i < breaks; i++) {
    const places: Place[] = [];
    placesOf(body, schema, [], places);
    const place = rng.pick(places);
    const kind = rng.int(6);
    if (kind === 0 && place.path.length > 0) body = setAt(body, place.path, undefined);
    else if (kind === 1) {
      const target = place.path.length > 0 ? place.path.slice(0, -1) : [];
      const parent = target.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], body);
      if (parent && typeof parent === 'object' && !Array.isArray(parent)) {
        if (rng.chance(0.15)) protoKey = true;
        else (parent as Record<string, unknown>)[rng.pick(BAD_KEYS)] = wrongType(rng);
      }
    } else body = setAt(body, place.path, badFor(place.schema, rng, text));
  }
  let json = expandNested(JSON.stringify(body));
  // `__proto__` cannot be set as an own key by assignment; it goes into the text instead.
  if (protoKey && json.startsWith('{') && json !== '{}')
    json = `{"__proto__":{"polluted":true},${json.slice(1)}`;
  return json;
}

/** Bodies that are not a JSON object of the operation. */
function brokenBody(rng: Rng, text: string): string {
  return rng.pick([
    '',
    '{',
    '{"a":}',
    '{"a":1}}',
    "{'a':1}",
    '[]',
    '1',
    '"x"',
    'null',
    'true',
    '\u0000',
    text,
    JSON.stringify(text),
    'alias=x&command=true',
    '<alias>x</alias>',
    repeat('[', 100_000) + repeat(']', 100_000),
    repeat('{"a":', 50_000) + '1' + repeat('}', 50_000),
    `{"a":"${repeat('x', 2_000_000)}"}`,
    '{"constructor":{"prototype":{"polluted":true}}}',
    `{"a":"\\ud800"}`,
    `{"a\\u0000":1}`,
    '\ufeff{}',
  ]);
}

const CONTENT_TYPES: readonly (string | undefined)[] = [
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded',
  'text/plain',
  'text/plain; charset=latin1',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '*/*',
  '',
  ';;;',
  'application/json; charset=',
  'not a media type',
];

const ACCEPTS: readonly (string | undefined)[] = [
  undefined,
  'application/json',
  'text/html,application/xhtml+xml,*/*;q=0.8',
  '*/*',
  'text/event-stream',
  'text/plain',
  'image/png',
];

/** A lone surrogate and NUL as a URL carries them; then the usual suspects. */
const BAD_PATH_IDS: readonly string[] = [
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%ED%BF%BF',
  '%C0%80',
  '%FF',
  '%',
  '%zz',
  '%E0%A4%A',
  repeat('a', 256),
  repeat('a', 257),
  repeat('b', 5_000),
  '..',
  '.',
  '%2e%2e',
  '%2F',
  'a%2Fb',
  '%20',
  '%F0%9F%98%80',
  '%E2%80%AE',
  '-1',
  'null',
  'undefined',
  '__proto__',
  'constructor',
];

/** `s` as a URL component, keeping a lone surrogate (which encodeURIComponent refuses) as its 3 bytes. */
function encode(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    out +=
      code >= 0xd800 && code <= 0xdfff
        ? `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`.toUpperCase()
        : encodeURIComponent(ch);
  }
  return out;
}

/** A query value as text: valid, or broken. */
function queryValue(p: Parameter, rng: Rng, text: string): string[] {
  const schema = p.schema;
  if (rng.chance(0.55)) {
    const v = validOf(schema, rng);
    return (Array.isArray(v) ? v : [v]).map((x) => encode(String(x)));
  }
  const raw = rng.pick([
    ...ODD_STRINGS.filter((s) => s.length < 3_000),
    ...ODD_NUMBERS.map(String),
    text,
    'true',
    'false',
    '',
    repeat('q', 5_000),
  ]);
  const values = [rng.chance(0.1) ? rng.pick(['%', '%zz', '%00', '%ED%A0%80', '%C0%80']) : encode(raw)];
  if (rng.chance(0.2)) values.push(...Array.from({ length: 1 + rng.int(40) }, () => encode(raw)));
  return values;
}

/**
 * One request for `op`: valid or broken. `text` is a string fast-check drew for this request.
 * Logs and the event stream never get a valid path id or query (those would stream until the run
 * ends, and the fuzzed server's runs never start).
 */
export function requestFor(op: Operation, rng: Rng, text: string, fixtures: Fixtures): FuzzRequest {
  const streams = op.path.endsWith('/logs') || op.path.endsWith('/stream');
  let path = op.path;
  for (const p of op.pathParams) {
    const known = (fixtures as unknown as Record<string, string>)[p.name];
    const roll = rng.int(10);
    const value =
      !streams && known !== undefined && roll < 5
        ? encode(known)
        : roll < 7
          ? encode(String(validOf(p.schema, rng)))
          : rng.chance(0.2)
            ? encode(text) || '%00'
            : rng.pick(BAD_PATH_IDS);
    path = path.replace(`{${p.name}}`, value);
  }
  // The same routes under /api/v6, and Faustian's at the root.
  const prefix = rng.int(10);
  if (prefix < 2) path = path.replace(/^\/api\/v1\//, '/api/v6/');
  else if (prefix < 4 && /^\/api\/v1\/(pipelines|ping)/.test(path)) path = path.replace(/^\/api\/v1/, '');
  if (rng.chance(0.02)) path = rng.pick([`${path}/`, `${path}//x`, path.toUpperCase(), `${path}/%00`]);

  const query: string[] = [];
  for (const p of op.query) {
    if (!p.required && rng.chance(0.6)) continue;
    for (const v of queryValue(p, rng, text)) query.push(`${encode(p.name)}=${v}`);
  }
  if (streams || rng.chance(0.08))
    query.push(`${rng.pick(['x_fuzz', '%00', encode('\ud800'), 'limit[]', '__proto__'])}=${encode(text)}`);
  const url = query.length ? `${path}?${query.join('&')}` : path;

  const headers: Record<string, string> = {};
  const accept = rng.pick(ACCEPTS);
  if (accept !== undefined) headers['accept'] = accept;
  const takesBody = op.body !== undefined || rng.chance(0.05);
  let payload: string | undefined;
  if (takesBody && op.method !== 'GET' && op.method !== 'HEAD') {
    payload = op.body && rng.chance(0.85) ? bodyOf(op.body, rng, text) : brokenBody(rng, text);
    const type = rng.chance(0.4) ? 'application/json' : rng.pick(CONTENT_TYPES);
    if (type !== undefined) headers['content-type'] = type;
  }
  return { method: op.method, url, headers, ...(payload !== undefined ? { payload } : {}) };
}
