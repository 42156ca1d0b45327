import type { FastifyError, FastifyInstance } from 'fastify';
import { DuplicateAliasError } from '../store/store.js';
import type { ErrorBody } from './schemas/common.js';

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
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Field problems of a schema validation failure, keyed by `body.memory`, `query.limit`, … */
function validationFields(context: string, errors: AjvError[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const e of errors) {
    let path = (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      path = [path, String(e.params?.['additionalProperty'])].filter(Boolean).join('.');
      message = 'is not a known field';
    } else if (e.keyword === 'required') {
      path = [path, String(e.params?.['missingProperty'])].filter(Boolean).join('.');
      message = 'is required';
    }
    const key = [context, path].filter(Boolean).join('.');
    fields[key] ??= message;
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
      const context = error.validationContext === 'querystring' ? 'query' : (error.validationContext ?? '');
      const fields = validationFields(context, error.validation as AjvError[]);
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
