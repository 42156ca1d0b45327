import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LogUnavailableError } from '../backends/backend.js';
import { DuplicateAliasError } from '../store/store.js';
import { type ErrorBody, MAX_JSON_DEPTH, MAX_PATH_ID_LENGTH, NO_NUL } from './schemas/common.js';

/** An error answer the API gives on purpose: HTTP status, stable code, message, field problems. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: 400 | 401 | 403 | 404 | 409 | 413 | 414 | 421 | 422 | 429 | 502 | 503,
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

/** What a string holding NUL or a lone surrogate is told. */
export const BAD_CHARS_PROBLEM = 'must not contain NUL (U+0000) or a lone surrogate (U+D800 to U+DFFF)';

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
      return params['pattern'] === NO_NUL ? BAD_CHARS_PROBLEM : `must match ${String(params['pattern'])}`;
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

/** At most this many field problems are answered (the first ones); a count of the others follows. */
const MAX_FIELDS = 50;
/** A field path longer than this (a client's long map key) is cut, with `…`. */
const MAX_FIELD_PATH = 200;

const cut = (path: string) => (path.length > MAX_FIELD_PATH ? `${path.slice(0, MAX_FIELD_PATH)}…` : path);

/**
 * Field problems of a schema validation failure, keyed by `body.memory`, `query.limit`, … (a map
 * key that is not a valid name: `body.environment.<key>`), worded from `schema`, the route's
 * schema of that part of the request. At most MAX_FIELDS of them; `more` counts the rest.
 */
function validationFields(
  context: string,
  errors: AjvError[],
  schema: unknown,
): { fields: Record<string, string>; more: number } {
  const fields: Record<string, string> = {};
  let more = 0;
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
    const key = cut([context, path].filter(Boolean).join('.'));
    if (!(key in fields) && Object.keys(fields).length >= MAX_FIELDS) {
      more++;
      continue;
    }
    // A union's own error says what every branch allows; it comes after its branches' errors.
    if (e.keyword === 'anyOf') fields[key] = message;
    else fields[key] ??= message;
  }
  return { fields, more };
}

/** The answer of an error: its status and `{code, message, fields?}`. */
export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
}

const answer = (status: number, code: string, message: string, fields?: Record<string, string>) => ({
  status,
  body: { code, message, ...(fields ? { fields } : {}) },
});

/**
 * Fastify's own errors, each with Galley's code and a message of Galley's: never fastify's, which
 * may repeat the URL or a value from the request.
 */
const FRAMEWORK_ERRORS: Record<string, ErrorAnswer> = {
  FST_ERR_CTP_INVALID_JSON_BODY: answer(400, 'BAD_JSON', 'the body is not valid JSON', {
    body: 'is not valid JSON',
  }),
  FST_ERR_CTP_EMPTY_JSON_BODY: answer(400, 'BAD_JSON', 'the body is empty', { body: 'is empty' }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: answer(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    'the content-type header is not a media type; send a JSON body, with content-type application/json or none',
  ),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: answer(
    400,
    'BAD_CONTENT_LENGTH',
    'the body is not as long as its content-length header says',
  ),
  FST_ERR_CTP_BODY_TOO_LARGE: answer(
    413,
    'BODY_TOO_LARGE',
    'the body is larger than the server takes (1 MiB)',
  ),
  FST_ERR_BAD_URL: answer(400, 'BAD_URL', 'the URL is not valid: a path segment has a malformed %-escape'),
  FST_ERR_MAX_PARAM_LENGTH: answer(
    414,
    'URI_TOO_LONG',
    `a path segment is longer than ${MAX_PATH_ID_LENGTH} characters, the longest id a route takes`,
  ),
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: answer(400, 'BAD_REQUEST', 'the request needs a content-type header'),
  FST_ERR_HANDLER_TIMEOUT: answer(503, 'TIMEOUT', 'the request took too long; try again'),
};

/** `NOT_FOUND`, `RANGE_NOT_SATISFIABLE`: a stable code for an HTTP status. */
const codeOfStatus = (status: number) =>
  (STATUS_CODES[status] ?? 'Error')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_|_$/g, '');

/** A 404 for a path that no route serves (the path is not repeated). */
export const NO_ROUTE: ErrorAnswer = answer(
  404,
  'NOT_FOUND',
  'no API route has this method and path; the API is described at /api/openapi.json',
);

/**
 * The answer of any error: ApiError as given; a duplicate alias 409; a schema failure 400 naming
 * each field; a log that cannot be read 502 (its host failed) or 503 (it cannot be reached from
 * here); fastify's own errors with Galley's codes and messages; any other 4xx by its status only;
 * anything else a 500 without details (`internal` is true: the caller logs it).
 */
export function errorAnswer(error: FastifyError, request: FastifyRequest): ErrorAnswer & { internal?: true } {
  if (error instanceof ApiError) return answer(error.statusCode, error.code, error.message, error.fields);
  if (error instanceof DuplicateAliasError)
    return answer(409, error.code, error.message, { 'body.alias': 'is already taken' });
  if (error instanceof LogUnavailableError)
    return answer(error.status, error.code, `the log cannot be read: ${error.message}`);
  if (error.validation) {
    const part = error.validationContext;
    const context = part === 'querystring' ? 'query' : (part ?? '');
    const schemas = request.routeOptions.schema as Record<string, unknown> | undefined;
    const { fields, more } = validationFields(
      context,
      error.validation as AjvError[],
      part && schemas?.[part],
    );
    const list = Object.entries(fields).map(([k, v]) => `${k} ${v}`);
    if (more > 0) list.push(`and ${more} more`);
    return answer(400, 'VALIDATION_FAILED', `invalid request: ${list.join('; ')}`, fields);
  }
  const known = error.code ? FRAMEWORK_ERRORS[error.code] : undefined;
  if (known) return known;
  const status = error.statusCode ?? (error as { status?: number }).status;
  if (status && status >= 400 && status < 500)
    return answer(status, codeOfStatus(status), STATUS_CODES[status] ?? 'bad request');
  return { ...answer(500, 'INTERNAL', 'internal error; the server log has the details'), internal: true };
}

/**
 * The one error handler: every error becomes `{code, message, fields?}` (see errorAnswer). Bad
 * input is 400 (422 for input that is well-formed but cannot be acted on), unknown ids 404,
 * conflicts 409. Anything else is a 500 whose details go to the log only. Fastify's errors raised
 * before routing (a bad %-escape, a path segment too long) get the same shape through
 * `frameworkErrors`, and broken HTTP through clientErrorHandler.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body, internal } = errorAnswer(error, request);
    if (internal) request.log.error({ err: error }, 'request failed');
    else if (status >= 500) request.log.warn({ code: body.code, message: body.message }, 'request failed');
    return reply.status(status).send(body);
  });
}

/** Fastify's `frameworkErrors` option: errors found while routing, answered in the one shape. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body, internal } = errorAnswer(error, request);
  if (internal) request.log.error({ err: error }, 'request failed before routing');
  void reply.status(status).send(body);
}

/**
 * Fastify's `clientErrorHandler`: a request that is not valid HTTP, whose headers are too large, or
 * that did not arrive within the request timeout, answered in the one shape before the connection
 * is closed.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, body] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [
          408,
          {
            code: 'REQUEST_TIMEOUT',
            message: 'the request did not arrive in time; the connection is closed',
          },
        ]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, { code: 'HEADERS_TOO_LARGE', message: 'the request line and headers are too large' }]
        : [400, { code: 'BAD_REQUEST', message: 'the request is not valid HTTP' }];
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  }
  socket.destroy(error);
}

/** The body is nested deeper than MAX_JSON_DEPTH. */
export const tooDeep = () =>
  new ApiError(400, 'BODY_TOO_DEEP', `the body is nested deeper than ${MAX_JSON_DEPTH} levels`, {
    body: `is nested deeper than ${MAX_JSON_DEPTH} levels`,
  });
