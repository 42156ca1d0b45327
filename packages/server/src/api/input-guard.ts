import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, BAD_CHARS_PROBLEM } from './errors.js';
import { hasBadChars } from './schemas/common.js';

/**
 * A net under the schemas: after validation, any string of the body, the query or the path
 * parameters, or any key of an object in them, that holds NUL or a lone surrogate is a 400 naming
 * it, and so is a number that is not finite. Every string field's schema refuses NUL and lone
 * surrogates already (NO_NUL); this catches a field a schema leaves free, so that no such string
 * reaches the store (PostgreSQL refuses both). A query number of 1e309 is Infinity once coerced,
 * and ajv checks no bound of a number that is not finite: this refuses it.
 */
export function installInputGuard(app: FastifyInstance): void {
  app.addHook('preHandler', async (request: FastifyRequest) => {
    for (const [part, value] of [
      ['params', request.params],
      ['query', request.query],
      ['body', request.body],
    ] as const) {
      const bad = badValuePath(value);
      if (bad === null) continue;
      const field = [part, ...bad.path].join('.').slice(0, 200);
      const problem =
        bad.kind === 'key'
          ? `is not a valid name: ${BAD_CHARS_PROBLEM}`
          : bad.kind === 'number'
            ? 'must be a finite number'
            : BAD_CHARS_PROBLEM;
      throw new ApiError(400, 'VALIDATION_FAILED', `invalid request: ${field} ${problem}`, {
        [field]: problem,
      });
    }
  });
}

/** A place in a value: its key and the place of its parent. */
interface Place {
  key: string;
  up: Place | null;
}

const pathOf = (place: Place | null): string[] => {
  const path: string[] = [];
  for (let p = place; p; p = p.up) path.unshift(p.key);
  return path;
};

/**
 * The path of the first string (`kind: 'string'`) or object key (`'key'`) holding NUL or a lone
 * surrogate, or of the first number that is not finite (`'number'`); null when none.
 */
export function badValuePath(root: unknown): { path: string[]; kind: 'string' | 'key' | 'number' } | null {
  const stack: { value: unknown; place: Place | null }[] = [{ value: root, place: null }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, place } = item;
    if (typeof value === 'string') {
      if (hasBadChars(value)) return { path: pathOf(place), kind: 'string' };
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return { path: pathOf(place), kind: 'number' };
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push({ value: v, place: { key: String(i), up: place } }));
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (hasBadChars(k)) return { path: pathOf({ key: k, up: place }), kind: 'key' };
        stack.push({ value: v, place: { key: k, up: place } });
      }
    }
  }
  return null;
}
