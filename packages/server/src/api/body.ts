import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, tooDeep } from './errors.js';
import { MAX_JSON_DEPTH } from './schemas/common.js';

/**
 * Request bodies are JSON whatever their content type says, as Flotilla's and Faustian's servers
 * read them: curl's `--data` sends `application/x-www-form-urlencoded`, many scripts send
 * `text/plain` or no content type at all. A body that is not JSON is a 400 that says where it
 * breaks (and what content type it came with); an empty body is no body; a body nested deeper than
 * MAX_JSON_DEPTH is a 400 before any schema sees it; `__proto__` keys and `constructor.prototype`
 * are refused (as fastify's own JSON parser refuses them).
 */
export function installJsonBodies(app: FastifyInstance): void {
  // A content-type header that is no media type at all would be a 415 before any parser runs:
  // set aside, the body is read as JSON like any other.
  app.addHook('onRequest', async (request) => {
    const type = request.raw.headers['content-type'];
    if (type !== undefined && !MEDIA_TYPE.test(type)) {
      sentTypes.set(request, type);
      delete request.raw.headers['content-type'];
    }
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, text, done) => {
    try {
      done(null, parseJsonBody(request, text as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

/** `type/subtype` and any parameters: a header fastify can read as a media type. */
const MEDIA_TYPE = /^\s*[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+\s*(;[\s\S]*)?$/;

/** Content-type headers set aside because they are no media type, for the messages about the body. */
const sentTypes = new WeakMap<FastifyRequest, string>();

/** The body of `request` as JSON; undefined when it is empty, or when no route takes it. */
function parseJsonBody(request: FastifyRequest, text: string): unknown {
  // A request no route serves gets its 404 whatever its body holds.
  if (request.is404 || text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const type = request.headers['content-type'] ?? sentTypes.get(request);
    const sentAs = type ? ` (sent as ${type.slice(0, 100)})` : '';
    throw new ApiError(400, 'BAD_JSON', `the body is not valid JSON${sentAs}: ${(err as Error).message}`, {
      body: 'is not valid JSON',
    });
  }
  checkShape(value);
  return value;
}

/**
 * Walks a parsed body without recursion: deeper than MAX_JSON_DEPTH is an ApiError 400 (a schema
 * walk or a JSON.stringify of it could overflow the stack), and so is a key that could reach an
 * object's prototype.
 */
function checkShape(root: unknown): void {
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, depth } = item;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH) throw tooDeep();
    if (Array.isArray(value)) {
      for (const v of value)
        if (typeof v === 'object' && v !== null) stack.push({ value: v, depth: depth + 1 });
      continue;
    }
    const record = value as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(record, '__proto__')) throw forbidden('__proto__');
    const ctor = record['constructor'];
    if (typeof ctor === 'object' && ctor !== null && Object.prototype.hasOwnProperty.call(ctor, 'prototype'))
      throw forbidden('constructor.prototype');
    for (const key in record) {
      const v = record[key];
      if (typeof v === 'object' && v !== null) stack.push({ value: v, depth: depth + 1 });
    }
  }
}

const forbidden = (key: string) =>
  new ApiError(400, 'BAD_JSON', `the body holds the key ${key}, which is refused`, {
    body: `holds the key ${key}`,
  });
