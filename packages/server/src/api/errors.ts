import type { FastifyError, FastifyInstance } from 'fastify';
import { DuplicateAliasError } from '../store/store.js';
import { type ErrorBody, NO_NUL } from './schemas/common.js';

/** An error answer the API gives on purpose: HTTP status, stable code, message, field problems. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: 400 | 404 | 409 | 422 | 503,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }
}

/** 404 for a resource kind and id. */
export const notFound = (what: string, id: string) =>
  new ApiError(404, 'NOT_FOUND', `${what} ${JSON.stringify(id)} does not exist`);

interface AjvError {
  instancePath?: string;
  schemaPath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
  /** Set on the errors of a `propertyNames` schema: the map key that is wrong. */
  propertyName?: string;
}

type SchemaNode = Record<string, unknown>;
const isNode = (v: unknown): v is SchemaNode => typeof v === 'object' && v !== null;

/** The schema node holding the keyword an ajv `schemaPath` ends with (`#/properties/a/maximum` → a's schema). */
function nodeAt(root: unknown, schemaPath: string | undefined): SchemaNode | undefined {
  if (!isNode(root) || !schemaPath?.startsWith('#/')) return undefined;
  let node: unknown = root;
  const segments = schemaPath.slice(2).split('/').slice(0, -1);
  for (const segment of segments) {
    if (!isNode(node)) return undefined;
    node = node[decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return isNode(node) ? node : undefined;
}

/** `≥ 0 and ≤ 1000`: the numeric bounds of a schema node. */
function bounds(node: SchemaNode): string {
  const words: string[] = [];
  if (typeof node['minimum'] === 'number') words.push(`≥ ${node['minimum']}`);
  if (typeof node['exclusiveMinimum'] === 'number') words.push(`> ${node['exclusiveMinimum']}`);
  if (typeof node['maximum'] === 'number') words.push(`≤ ${node['maximum']}`);
  if (typeof node['exclusiveMaximum'] === 'number') words.push(`< ${node['exclusiveMaximum']}`);
  return words.join(' and ');
}

/** What a value of this schema is, in words: `a whole number ≥ 0 and ≤ 1000`, `"HOST"`, `a string matching …`. */
function describe(node: SchemaNode): string {
  if ('const' in node) return JSON.stringify(node['const']);
  if (Array.isArray(node['enum'])) return `one of ${node['enum'].map((v) => JSON.stringify(v)).join(', ')}`;
  if (Array.isArray(node['anyOf'])) {
    const branches = node['anyOf'].filter(isNode);
    if (branches.every((b) => 'const' in b))
      return `one of ${branches.map((b) => JSON.stringify(b['const'])).join(', ')}`;
    return branches.map(describe).join(' or ');
  }
  switch (node['type']) {
    case 'integer':
    case 'number': {
      const b = bounds(node);
      return `${node['type'] === 'integer' ? 'a whole number' : 'a number'}${b ? ` ${b}` : ''}`;
    }
    case 'string': {
      const pattern = node['pattern'];
      return typeof pattern === 'string' && pattern !== NO_NUL ? `a string matching ${pattern}` : 'a string';
    }
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'an object';
    case 'array':
      return 'a list';
    case 'null':
      return 'null';
    default:
      return 'valid';
  }
}

/** `1 to 63 characters long`, `at most 4096 characters long`. */
function lengthWords(node: SchemaNode, params: Record<string, unknown>): string {
  const min = typeof node['minLength'] === 'number' ? node['minLength'] : 0;
  const max = typeof node['maxLength'] === 'number' ? node['maxLength'] : undefined;
  if (max === undefined) return min <= 1 ? 'must not be empty' : `must be at least ${min} characters long`;
  if (min > 0) return `must be ${min} to ${max} characters long`;
  return `must be at most ${max ?? String(params['limit'])} characters long`;
}

/**
 * A readable problem for one ajv error, from the schema it broke (its bounds, its allowed values)
 * when `node` is known; ajv's own message otherwise.
 */
function problemOf(e: AjvError, node: SchemaNode | undefined): string {
  const params = e.params ?? {};
  const fallback = e.message ?? 'is invalid';
  switch (e.keyword) {
    case 'additionalProperties':
      return 'is not a known field';
    case 'required':
      return 'is required';
    case 'enum':
      return Array.isArray(params['allowedValues'])
        ? `must be one of ${params['allowedValues'].map((v) => JSON.stringify(v)).join(', ')}`
        : fallback;
    case 'const':
      return `must be ${JSON.stringify(params['allowedValue'])}`;
    case 'pattern':
      return params['pattern'] === NO_NUL
        ? 'must not contain NUL (U+0000)'
        : `must match ${String(params['pattern'])}`;
    case 'maxItems':
      return `must have at most ${String(params['limit'])} items`;
    case 'minItems':
      return `must have at least ${String(params['limit'])} items`;
    case 'maxProperties':
      return `must have at most ${String(params['limit'])} entries`;
    case 'minProperties':
      return params['limit'] === 1
        ? 'must have at least one entry'
        : `must have at least ${String(params['limit'])} entries`;
    case 'minLength':
    case 'maxLength':
      return node ? lengthWords(node, params) : fallback;
    case 'type':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'multipleOf':
    case 'anyOf':
      return node ? `must be ${describe(node)}` : fallback;
    default:
      return fallback;
  }
}

/**
 * Field problems of a schema validation failure, keyed by `body.memory`, `query.limit`, … (a map
 * key that is not a valid name: `body.environment.<key>`), worded from `schema`, the route's
 * schema of that part of the request.
 */
function validationFields(context: string, errors: AjvError[], schema: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const e of errors) {
    if (e.keyword === 'propertyNames') continue; // its inner error names the key
    let path = (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    let message = problemOf(e, nodeAt(schema, e.schemaPath));
    if (e.keyword === 'additionalProperties') {
      path = [path, String(e.params?.['additionalProperty'])].filter(Boolean).join('.');
    } else if (e.keyword === 'required') {
      path = [path, String(e.params?.['missingProperty'])].filter(Boolean).join('.');
    } else if (e.propertyName !== undefined) {
      path = [path, e.propertyName].filter(Boolean).join('.');
      message = `is not a valid name: ${message}`;
    }
    const key = [context, path].filter(Boolean).join('.');
    // A union's own error says what every branch allows; it comes after its branches' errors.
    if (e.keyword === 'anyOf') fields[key] = message;
    else fields[key] ??= message;
  }
  return fields;
}

/** Fastify's own client-error codes (bad JSON, wrong content type, body too large …). */
const CLIENT_ERRORS: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_JSON',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
};

/**
 * The one error handler: every error becomes `{code, message, fields?}`. Bad input is 400 (422 for
 * input that is well-formed but cannot be acted on), unknown ids 404, conflicts 409. Anything
 * else is a 500 whose details go to the log only.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let status: number;
    let body: ErrorBody;
    if (error instanceof ApiError) {
      status = error.statusCode;
      body = { code: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}) };
    } else if (error instanceof DuplicateAliasError) {
      status = 409;
      body = { code: error.code, message: error.message, fields: { 'body.alias': 'is already taken' } };
    } else if (error.validation) {
      status = 400;
      const part = error.validationContext;
      const context = part === 'querystring' ? 'query' : (part ?? '');
      const schemas = request.routeOptions.schema as Record<string, unknown> | undefined;
      const fields = validationFields(context, error.validation as AjvError[], part && schemas?.[part]);
      const list = Object.entries(fields).map(([k, v]) => `${k} ${v}`);
      body = { code: 'VALIDATION_FAILED', message: `invalid request: ${list.join('; ')}`, fields };
    } else if (error.code && CLIENT_ERRORS[error.code]) {
      status = error.statusCode && error.statusCode < 500 ? error.statusCode : 400;
      body = { code: CLIENT_ERRORS[error.code]!, message: error.message };
    } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      status = error.statusCode;
      body = { code: 'BAD_REQUEST', message: error.message };
    } else {
      request.log.error({ err: error }, 'request failed');
      status = 500;
      body = { code: 'INTERNAL', message: 'internal error; the server log has the details' };
    }
    return reply.status(status).send(body);
  });
}
